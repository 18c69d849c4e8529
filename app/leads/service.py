"""Reading leads as the caller may see them: scoped, paged, masked."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Row
from sqlmodel import Session

from app.auth import Principal
from app.errors import InvalidInput, NotFound
from app.leads import repository
from app.leads.repository import LeadFilter
from app.leads.schemas import LeadList, LeadRead
from app.leads.search import search_condition
from app.ownership.service import current_owner_opened_by
from app.privacy.cipher import MobileCipher, cipher_for
from app.tables import Lead

ERASED = "(erased)"


def mask_mobile(mobile: str | None) -> str | None:
    """'13812341234' -> '138****1234'."""
    if not mobile:
        return mobile
    return mobile[:3] + "*" * max(len(mobile) - 7, 0) + mobile[-4:]


def shown_name(lead: Lead | Row[Any]) -> str | None:
    """The name as pages and the API show it: "(erased)" once the person was erased."""
    return ERASED if lead.erased_at is not None else lead.name


def list_leads(
    session: Session,
    *,
    principal: Principal,
    flt: LeadFilter,
    limit: int,
    offset: int,
    max_limit: int,
    secret: bytes = b"",
) -> LeadList:
    """`secret` (the customer key) finds a full mobile number in a search."""
    if limit > max_limit:
        raise InvalidInput(f"limit may be at most {max_limit}")
    found = None
    if flt.search and flt.search.strip():
        found = search_condition(session, principal=principal, text=flt.search, secret=secret)
    rows, total = repository.list_leads(
        session, principal=principal, flt=flt, limit=limit, offset=offset, found=found
    )
    cipher = cipher_for(session)
    items = [_read(row, row.branch_code, principal=principal, cipher=cipher) for row in rows]
    return LeadList(items=items, total=total, limit=limit, offset=offset)


def get_lead(session: Session, *, principal: Principal, lead_id: int) -> LeadRead:
    row = repository.get_lead(session, principal=principal, lead_id=lead_id)
    if row is None:
        # The same answer for "not yours" and "does not exist": nothing leaks.
        raise NotFound("lead not found")
    read = _read(row[0], row[1], principal=principal, cipher=cipher_for(session))
    return read.model_copy(update={"assigned_by": current_owner_opened_by(session, row[0])})


def _read(
    lead: Lead | Row[Any], branch_code: str | None, *, principal: Principal, cipher: MobileCipher
) -> LeadRead:
    """`lead`: the entity, or a row of `repository.LISTED` (the same names)."""
    assert lead.id is not None
    plain = cipher.open(lead.mobile)
    mobile = plain if principal.role == "hq" else mask_mobile(plain)
    return LeadRead(
        id=lead.id,
        external_id=lead.external_id,
        channel=lead.channel,
        name=shown_name(lead),
        erased=lead.erased_at is not None,
        tier=lead.tier,
        status=lead.status,
        branch_code=branch_code,
        mobile=mobile,
        lat=lead.lat,
        lon=lead.lon,
        region_code=lead.region_code,
        location_source=lead.location_source,
        acquired_at=lead.acquired_at,
    )

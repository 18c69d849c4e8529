"""Reading leads as the caller may see them: scoped, paged, masked."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlmodel import Session

from app.auth import Principal
from app.errors import InvalidInput, NotFound
from app.leads import repository
from app.leads.repository import LeadFilter
from app.leads.schemas import LeadList, LeadRead
from app.leads.search import search_condition
from app.ownership.service import current_owner_opened_by
from app.privacy.cipher import MobileCipher, cipher_for

ERASED = "(erased)"


def mask_mobile(mobile: str | None) -> str | None:
    """'13812341234' -> '138****1234'."""
    if not mobile:
        return mobile
    return mobile[:3] + "*" * max(len(mobile) - 7, 0) + mobile[-4:]


def shown_name(name: str | None, erased_at: datetime | None) -> str | None:
    """The name as pages and the API show it: "(erased)" once the person was erased."""
    return ERASED if erased_at is not None else name


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
    items = [_shown(row, principal=principal, cipher=cipher) for row in rows]
    # Validated once as a page: a LeadRead built field by field per lead cost 8 us each.
    page = {"items": items, "total": total, "limit": limit, "offset": offset}
    return LeadList.model_validate(page)


def get_lead(session: Session, *, principal: Principal, lead_id: int) -> LeadRead:
    row = repository.get_lead(session, principal=principal, lead_id=lead_id)
    if row is None:
        # The same answer for "not yours" and "does not exist": nothing leaks.
        raise NotFound("lead not found")
    lead, branch_code = row
    fields = {name: getattr(lead, name) for name in repository.LISTED_FIELDS}
    shown = _shown({**fields, "branch_code": branch_code}, principal=principal,
                   cipher=cipher_for(session))  # fmt: skip
    return LeadRead.model_validate({**shown, "assigned_by": current_owner_opened_by(session, lead)})


def _shown(lead: dict[str, Any], *, principal: Principal, cipher: MobileCipher) -> dict[str, Any]:
    """What the caller may see of a lead, as `LeadRead`'s fields, from its
    `repository.PAGE_FIELDS` (changed in place)."""
    erased_at = lead.pop("erased_at")
    plain = cipher.open(lead["mobile"])
    lead["mobile"] = plain if principal.role == "hq" else mask_mobile(plain)
    lead["name"] = shown_name(lead["name"], erased_at)
    lead["erased"] = erased_at is not None
    return lead

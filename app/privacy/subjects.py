"""PIPL data-subject rights for one person, found by mobile number: export and erasure.

A person is a customer (the keyed hash of their number) and that customer's leads. Export
lists what is held; erasure blanks the personal fields and unlinks the number, keeping ids,
statuses, ownership, the ledger and the audit log as they are. Audit records written here
name lead ids only, never the number or the name.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlmodel import Session, col, select

from allocation.locality import normalise_mobile
from app import audit
from app.errors import InvalidInput, NotFound
from app.leads.rows import customer_key
from app.privacy.cipher import cipher_for
from app.tables import AuditRecord, Customer, Lead, Ownership
from app.tables.base import utcnow
from app.tables.journal import RevenueEventRow

EXPORT_ACTION = "privacy.export"
ERASE_ACTION = "privacy.erase"
ERASED_KEY_PREFIX = "erased:"
_LEAD_FIELDS = (
    "id", "channel", "external_id", "customer_id", "name", "tier", "lat", "lon", "region_code",
    "location_source", "status", "branch_id", "returned_by_branch_id", "return_reason",
    "assigned_at", "contacted_at", "acquired_at", "created_at", "updated_at", "erased_at",
)  # fmt: skip


def export_subject(session: Session, *, mobile: str, secret: bytes, actor: str) -> dict[str, Any]:
    """Everything held about the person with this number (audited, even when nothing is)."""
    customer = _customer(session, mobile=mobile, secret=secret)
    leads = _leads(session, customer)
    ids = [lead.id for lead in leads if lead.id is not None]
    cipher = cipher_for(session)
    held = {
        "customer": _customer_dict(customer),
        "leads": [
            {
                **{f: _plain(getattr(lead, f)) for f in _LEAD_FIELDS},
                "mobile": cipher.open(lead.mobile),
            }
            for lead in leads
        ],
        "ownership": _ownership(session, customer),
        "revenue_events": _revenue(session, ids),
        "audit_records": _audit_records(session, ids),
    }
    audit.record(
        session, actor=actor, action=EXPORT_ACTION, entity_type="customer",
        entity_id=customer.id if customer else None, detail={"lead_ids": ids},
    )  # fmt: skip
    return held


def erase_subject(
    session: Session, *, mobile: str, reason: str, secret: bytes, actor: str
) -> list[int]:
    """Blank name, number and precise location of every lead of this person; unlink the number.

    Returns the erased lead ids. Region codes (county-level GB/T 2260 divisions shared by
    tens of thousands of people) stay: branch statistics and allocation by area keep working.
    """
    reason = reason.strip()
    if not reason:
        raise InvalidInput("an erasure needs a reason")
    customer = _customer(session, mobile=mobile, secret=secret)
    if customer is None:
        raise NotFound("no customer holds this mobile number (never imported, or erased already)")
    now = utcnow()
    leads = _leads(session, customer)
    for lead in leads:
        _erase_lead(lead, now=now)
        session.add(lead)
    # A random token instead of the keyed hash: the number no longer finds this customer.
    customer.customer_key = ERASED_KEY_PREFIX + uuid.uuid4().hex
    session.add(customer)
    ids = [lead.id for lead in leads if lead.id is not None]
    audit.record(
        session, actor=actor, action=ERASE_ACTION, entity_type="customer",
        entity_id=customer.id, detail={"lead_ids": ids, "reason": reason},
    )  # fmt: skip
    session.flush()
    return ids


def _erase_lead(lead: Lead, *, now: datetime) -> None:
    lead.name = None
    lead.mobile = None
    lead.lat = None
    lead.lon = None
    if lead.location_source in ("coordinates", "address", "id_card"):
        lead.location_source = "region_code" if lead.region_code else None
    lead.erased_at = now
    lead.updated_at = now


def _customer(session: Session, *, mobile: str, secret: bytes) -> Customer | None:
    normalised = normalise_mobile(mobile)
    if normalised is None:
        raise InvalidInput("not a mainland China mobile number")
    key = customer_key(normalised, secret=secret)
    return session.exec(select(Customer).where(Customer.customer_key == key)).first()


def _leads(session: Session, customer: Customer | None) -> list[Lead]:
    if customer is None:
        return []
    query = select(Lead).where(Lead.customer_id == customer.id).order_by(col(Lead.id))
    return list(session.exec(query))


def _customer_dict(customer: Customer | None) -> dict[str, Any] | None:
    if customer is None:
        return None
    return {"id": customer.id, "created_at": _plain(customer.created_at)}


def _ownership(session: Session, customer: Customer | None) -> list[dict[str, Any]]:
    if customer is None:
        return []
    query = (
        select(Ownership)
        .where(Ownership.customer_id == customer.id)  # its leads' intervals are its own
        .order_by(col(Ownership.valid_from), col(Ownership.id))
    )
    return [
        {
            "lead_id": o.lead_id,
            "branch_id": o.branch_id,
            "valid_from": _plain(o.valid_from),
            "valid_to": _plain(o.valid_to),
            "opened_by": o.opened_by,
            "round_id": o.round_id,
            "close_reason": o.close_reason,
        }
        for o in session.exec(query)
    ]


def _revenue(session: Session, ids: list[int]) -> list[dict[str, Any]]:
    query = (
        select(RevenueEventRow)
        .where(col(RevenueEventRow.lead_id).in_(ids))
        .order_by(col(RevenueEventRow.id))
    )
    return [
        {
            "event_id": e.event_id,
            "lead_id": e.lead_id,
            "type": e.revenue_type,
            "amount_fen": e.amount_fen,
            "occurred_at": _plain(e.occurred_at),
        }
        for e in session.exec(query)
    ]


def _audit_records(session: Session, ids: list[int]) -> list[dict[str, Any]]:
    query = (
        select(AuditRecord)
        .where(
            AuditRecord.entity_type == "lead", col(AuditRecord.entity_id).in_([str(i) for i in ids])
        )
        .order_by(col(AuditRecord.id))
    )
    return [
        {
            "id": r.id,
            "at": _plain(r.at),
            "actor": r.actor,
            "action": r.action,
            "lead_id": r.entity_id,
            "detail": r.detail,
        }
        for r in session.exec(query)
    ]


def _plain(value: Any) -> Any:
    return value.isoformat() if isinstance(value, datetime) else value

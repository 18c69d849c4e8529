"""What branches do with their leads: contacted, converted, returned; and HQ transfers.

Every change is checked against the lead's current status, timestamped and audited in the same
transaction. A branch can only touch leads its branch owns (the scoped lookup answers 404).
"""

from __future__ import annotations

from sqlmodel import Session, select

from app import audit
from app.auth import Principal
from app.db import write_first
from app.errors import Conflict, InvalidInput, NotFound
from app.leads import repository
from app.ownership.service import close_open_intervals, open_interval
from app.tables import Branch, Lead
from app.tables.base import utcnow

# Which statuses each action may start from.
ALLOWED_FROM = {
    "contacted": ("assigned",),
    "converted": ("assigned", "contacted"),
    "returned": ("assigned", "contacted"),
}


def _owned_lead(session: Session, *, principal: Principal, lead_id: int) -> Lead:
    write_first(session)  # every caller changes the lead: on SQLite, wait for the write lock
    row = repository.get_lead(session, principal=principal, lead_id=lead_id)
    if row is None:
        raise NotFound("lead not found")
    return row[0]


def _check_transition(lead: Lead, action: str) -> None:
    if lead.status not in ALLOWED_FROM[action]:
        allowed = " or ".join(ALLOWED_FROM[action])
        raise Conflict(f"lead {lead.id} is '{lead.status}'; only {allowed} leads can be {action}")


def mark_contacted(session: Session, *, principal: Principal, lead_id: int) -> Lead:
    lead = _owned_lead(session, principal=principal, lead_id=lead_id)
    _check_transition(lead, "contacted")
    return _set_status(session, lead, status="contacted", principal=principal, contacted=True)


def mark_converted(session: Session, *, principal: Principal, lead_id: int) -> Lead:
    lead = _owned_lead(session, principal=principal, lead_id=lead_id)
    _check_transition(lead, "converted")
    return _set_status(session, lead, status="converted", principal=principal)


def return_lead(session: Session, *, principal: Principal, lead_id: int, reason: str) -> Lead:
    """Back to the pool with a reason; the next round will not send it to this branch again."""
    lead = _owned_lead(session, principal=principal, lead_id=lead_id)
    _check_transition(lead, "returned")
    now = utcnow()
    close_open_intervals(session, lead=lead, at=now, reason="returned")
    lead.returned_by_branch_id = lead.branch_id
    lead.return_reason = reason
    lead.branch_id = None
    return _set_status(
        session, lead, status="returned", principal=principal, detail={"reason": reason}
    )


def transfer_lead(
    session: Session, *, principal: Principal, lead_id: int, branch_code: str, reason: str
) -> Lead:
    """HQ moves a lead (and its ownership) to another branch, with a reason."""
    lead = _owned_lead(session, principal=principal, lead_id=lead_id)
    branch = session.exec(select(Branch).where(Branch.code == branch_code)).first()
    if branch is None or not branch.active:
        raise InvalidInput(f"no active branch '{branch_code}'")
    if lead.branch_id == branch.id:
        raise Conflict(f"lead {lead.id} already belongs to branch {branch_code}")
    now = utcnow()
    close_open_intervals(session, lead=lead, at=now, reason="transferred")
    assert branch.id is not None
    open_interval(session, lead=lead, branch_id=branch.id, at=now, opened_by="transfer")
    from_branch = lead.branch_id
    lead.branch_id = branch.id
    lead.assigned_at = now
    status = lead.status if lead.status in ("contacted", "converted") else "assigned"
    detail: dict[str, object] = {
        "reason": reason,
        "from_branch_id": from_branch,
        "to_branch": branch_code,
    }
    return _set_status(
        session, lead, status=status, principal=principal, detail=detail, action="transferred"
    )


def _set_status(
    session: Session,
    lead: Lead,
    *,
    status: str,
    principal: Principal,
    contacted: bool = False,
    detail: dict[str, object] | None = None,
    action: str | None = None,
) -> Lead:
    now = utcnow()
    previous = lead.status
    lead.status = status
    lead.updated_at = now
    if contacted:
        lead.contacted_at = now
    session.add(lead)
    session.flush()
    audit.record(
        session,
        actor=principal.username,
        action=f"lead.{action or status}",
        entity_type="lead",
        entity_id=lead.id,
        detail={"from": previous, "to": status, **(detail or {})},
    )
    return lead

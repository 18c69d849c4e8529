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
from app.ownership.holdings import check_can_take, customer_tier, lock_branch
from app.ownership.service import move_customer, release_customer, siblings
from app.tables import Branch, Lead
from app.tables.base import utcnow
from coded_messages import message

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


def _id(lead: Lead) -> int:
    assert lead.id is not None  # read from the database
    return lead.id


def _check_transition(lead: Lead, action: str) -> None:
    if lead.status not in ALLOWED_FROM[action]:
        allowed = " or ".join(ALLOWED_FROM[action])
        raise Conflict(
            message("lead.wrong_status", lead=_id(lead), status=lead.status, allowed=allowed,
                    action=action)
        )  # fmt: skip


def mark_contacted(session: Session, *, principal: Principal, lead_id: int) -> Lead:
    lead = _owned_lead(session, principal=principal, lead_id=lead_id)
    _check_transition(lead, "contacted")
    return _set_status(session, lead, status="contacted", principal=principal, contacted=True)


def mark_converted(session: Session, *, principal: Principal, lead_id: int) -> Lead:
    lead = _owned_lead(session, principal=principal, lead_id=lead_id)
    _check_transition(lead, "converted")
    return _set_status(session, lead, status="converted", principal=principal)


def return_lead(session: Session, *, principal: Principal, lead_id: int, reason: str) -> Lead:
    """The customer (all its leads here) goes back to the pool with a reason; the next round
    will not send it to this branch again."""
    lead = _owned_lead(session, principal=principal, lead_id=lead_id)
    _check_transition(lead, "returned")
    converted = [_id(x) for x in siblings(session, lead) if x.status == "converted"]
    if converted:
        raise Conflict(message("lead.customer_converted", lead=_id(lead), converted=converted[0]))
    now = utcnow()
    released = release_customer(
        session, lead=lead, at=now, reason="returned", status="returned", note=reason
    )
    for other in released:
        if other.id != lead.id:
            _audit(session, other, principal=principal, action="returned_with",
                   detail={"from": "assigned", "to": "returned", "with_lead": lead.id})  # fmt: skip
    return _set_status(
        session, lead, status="returned", principal=principal, detail={"reason": reason}
    )


def transfer_lead(
    session: Session,
    *,
    principal: Principal,
    lead_id: int,
    branch_code: str,
    reason: str,
    override: bool = False,
) -> Lead:
    """HQ moves a customer (all its leads, and its ownership) to another branch, with a reason.

    The receiving branch must have room and serve the customer's tier, unless HQ overrides
    explicitly; the override and what it overrode are audited.
    """
    lead = _owned_lead(session, principal=principal, lead_id=lead_id)
    target = session.exec(select(Branch).where(Branch.code == branch_code)).first()
    if target is None or target.id is None or not target.active:
        raise InvalidInput(message("lead.no_active_branch", branch=branch_code))
    if lead.branch_id == target.id:
        raise Conflict(message("lead.already_there", lead=_id(lead), branch=branch_code))
    target = lock_branch(session, target.id)
    leads = siblings(session, lead)
    converted = any(x.status == "converted" for x in leads)  # no longer takes capacity
    overridden = check_can_take(
        session,
        branch=target,
        tier=customer_tier(x.tier for x in leads),
        new_customers=0 if converted else 1,
        override=override,
    )
    from_branch, from_status = lead.branch_id, lead.status
    assert target.id is not None
    move_customer(session, lead=lead, branch_id=target.id, at=utcnow(), opened_by="transfer")
    detail: dict[str, object] = {
        "from": from_status,
        "reason": reason,
        "from_branch_id": from_branch,
        "to_branch": branch_code,
        "leads": [x.id for x in leads],
    }
    if overridden:
        detail["override"] = overridden
    return _set_status(
        session, lead, status=lead.status, principal=principal, detail=detail, action="transferred"
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
    _audit(session, lead, principal=principal, action=action or status,
           detail={"from": previous, "to": status, **(detail or {})})  # fmt: skip
    return lead


def _audit(
    session: Session, lead: Lead, *, principal: Principal, action: str, detail: dict[str, object]
) -> None:
    audit.record(
        session,
        actor=principal.username,
        action=f"lead.{action}",
        entity_type="lead",
        entity_id=lead.id,
        detail=detail,
    )

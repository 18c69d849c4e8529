"""One lead as a page: the API's masked read, plus its timeline and distance to its branch."""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from datetime import datetime

from sqlmodel import Session, col, select

from allocation.geo import haversine_km
from app.auth import Principal
from app.errors import NotFound
from app.leads import repository, service
from app.leads.followup import ALLOWED_FROM
from app.leads.reveal import reveal_mobile
from app.leads.schemas import LeadRead
from app.tables import AuditRecord, Branch, Lead, Ownership

HISTORY_LIMIT = 50


@dataclass(frozen=True, slots=True)
class HistoryItem:
    at: datetime
    actor: str
    action: str
    reason: str | None


@dataclass(frozen=True, slots=True)
class LeadView:
    lead: LeadRead
    branch_name: str | None
    assigned_at: datetime | None
    contacted_at: datetime | None
    distance_km: float | None
    history: list[HistoryItem]
    transfer_targets: list[tuple[str, str]]  # (code, name) of active branches, for HQ only
    revealed_mobile: str | None = None

    @property
    def can(self) -> dict[str, bool]:
        """Which follow-up actions the lead's status allows (the service's own rule)."""
        return {action: self.lead.status in ALLOWED_FROM[action] for action in ALLOWED_FROM}


def lead_view(session: Session, *, principal: Principal, lead_id: int) -> LeadView:
    """404 for a lead the caller may not see, exactly as for one that does not exist."""
    read = service.get_lead(session, principal=principal, lead_id=lead_id)
    row = repository.get_lead(session, principal=principal, lead_id=lead_id)
    if row is None:  # changed between the two reads: same answer as never visible
        raise NotFound("lead not found")
    lead = row[0]
    branch = session.get(Branch, lead.branch_id) if lead.branch_id is not None else None
    return LeadView(
        lead=read,
        branch_name=branch.name if branch else None,
        assigned_at=lead.assigned_at,
        contacted_at=lead.contacted_at,
        distance_km=_distance(lead, branch),
        history=_history(session, lead_id=lead_id, since=_visible_since(session, principal, lead)),
        transfer_targets=_active_branches(session) if principal.role == "hq" else [],
    )


def revealed_lead_view(
    session: Session, *, principal: Principal, lead_id: int, limit_per_hour: int
) -> LeadView:
    """The lead page with the full number shown once; the reveal is audited and rate-limited."""
    mobile = reveal_mobile(
        session, principal=principal, lead_id=lead_id, limit_per_hour=limit_per_hour
    )
    session.flush()  # the reveal's own audit record shows in the timeline below
    view = lead_view(session, principal=principal, lead_id=lead_id)
    return replace(view, revealed_mobile=mobile)


def _distance(lead: Lead, branch: Branch | None) -> float | None:
    if branch is None or lead.lat is None or lead.lon is None:
        return None
    return haversine_km(lead.lat, lead.lon, branch.lat, branch.lon)


def _active_branches(session: Session) -> list[tuple[str, str]]:
    query = select(Branch.code, Branch.name).where(col(Branch.active)).order_by(col(Branch.code))
    return [(code, name) for code, name in session.exec(query)]


def _visible_since(session: Session, principal: Principal, lead: Lead) -> datetime | None:
    """Branch users see what happened since their branch took the customer, nothing earlier:
    another branch's return reason or reveals are that branch's business."""
    if not principal.is_branch:
        return None
    whose = col(Ownership.customer_id) == lead.customer_id
    since = session.exec(
        select(Ownership.valid_from).where(whose, col(Ownership.valid_to).is_(None))
    ).first()
    return since or lead.assigned_at


def _history(session: Session, *, lead_id: int, since: datetime | None) -> list[HistoryItem]:
    query = (
        select(AuditRecord)
        .where(AuditRecord.entity_type == "lead", AuditRecord.entity_id == str(lead_id))
        .order_by(col(AuditRecord.at).desc(), col(AuditRecord.id).desc())
        .limit(HISTORY_LIMIT)
    )
    if since is not None:
        query = query.where(col(AuditRecord.at) >= since)
    return [
        HistoryItem(at=r.at, actor=r.actor, action=r.action, reason=_reason(r.detail))
        for r in session.exec(query)
    ]


def _reason(detail: str) -> str | None:
    try:
        reason = json.loads(detail).get("reason")
    except (ValueError, AttributeError):
        return None
    return reason if isinstance(reason, str) else None

"""Warning branches of leads close to their follow-up deadline (`o2o followup run`).

A lead is warned once per assignment: when it has used all but `deadline_warning_hours` of its
deadline (working hours, on the same calendar as the deadline) and is still not contacted. The
warned (lead, assigned_at) pairs are kept, so running the job twice warns nobody twice; two
runs racing on PostgreSQL collide on that key and the later one rolls back.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Select, and_, insert, literal, select
from sqlmodel import Session, col

from app.config import Settings
from app.notifications.writing import notify_from_query
from app.ownership.deadline import FollowUp, followup_rule
from app.ownership.holdings import stale_condition
from app.tables import DeadlineWarning, Lead
from app.tables.base import UTCDateTime


def warn_approaching(session: Session, *, settings: Settings, now: datetime) -> int:
    """Notify each branch of its leads entering the warning window; returns leads warned."""
    rule = followup_rule(settings)
    if settings.deadline_warning_hours == 0 or settings.deadline_warning_hours >= rule.hours:
        return 0
    warn_from = FollowUp(rule.hours - settings.deadline_warning_hours, rule.calendar).cutoff(now)
    warned_before = (
        select(col(DeadlineWarning.lead_id))
        .where(col(DeadlineWarning.lead_id) == col(Lead.id))
        .where(col(DeadlineWarning.assigned_at) == col(Lead.assigned_at))
        .exists()
    )
    due = and_(
        stale_condition(deadline=warn_from),  # in the window: assigned, never contacted...
        col(Lead.assigned_at) >= rule.cutoff(now),  # ...and not lapsed yet
        col(Lead.branch_id).is_not(None),
        ~warned_before,
    )
    pairs: Select[Any, Any] = select(
        col(Lead.branch_id).label("branch_id"), col(Lead.id).label("lead_id")
    )
    told = notify_from_query(session, pairs=pairs.where(due), kind="deadline_approaching",
                             source="followup")  # fmt: skip
    if told.leads:
        rows = select(col(Lead.id), col(Lead.assigned_at), literal(now, UTCDateTime())).where(due)
        columns = ["lead_id", "assigned_at", "created_at"]
        session.execute(insert(DeadlineWarning).from_select(columns, rows))
    return told.leads

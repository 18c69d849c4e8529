"""The funnel for a request: the query from its parameters, the deadline from the settings."""

from __future__ import annotations

from datetime import date

from sqlmodel import Session

from app.analytics.funnel import Funnel, FunnelQuery, default_query, funnel
from app.auth import Principal
from app.clock import utcnow
from app.config import Settings
from app.ownership.deadline import followup_rule
from ledger.periods import SHANGHAI


def funnel_for(
    session: Session,
    *,
    principal: Principal,
    settings: Settings,
    by: str,
    start: date | None,
    end: date | None,
) -> Funnel:
    """Missing dates default to the last twelve weeks; either may be given alone."""
    now = utcnow()
    default = default_query(by=by, today=now.astimezone(SHANGHAI).date())
    query = FunnelQuery(by=by, start=start or default.start, end=end or default.end)
    cutoff = followup_rule(settings).cutoff(now)
    return funnel(session, principal=principal, query=query, overdue_before=cutoff)

"""HQ's switch for routing between rounds: one row, changed by the API or `o2o routing`."""

from __future__ import annotations

from pydantic import BaseModel
from sqlalchemy import select as sa_select
from sqlmodel import Session, col

from app import audit
from app.bulk import plain_rows
from app.tables import RoutingSwitch
from app.tables.base import utcnow


class RoutingState(BaseModel):
    enabled: bool
    changed_by: str | None
    changed_at: str | None  # ISO 8601 UTC; null: never changed since installation


_ENABLED = sa_select(col(RoutingSwitch.enabled)).where(col(RoutingSwitch.id) == 1)


def routing_enabled(session: Session) -> bool:
    rows = plain_rows(session, _ENABLED)
    return not rows or bool(rows[0][0])  # on unless HQ switched it off


def routing_state(session: Session) -> RoutingState:
    row = session.get(RoutingSwitch, 1) or RoutingSwitch()
    changed = row.changed_at.isoformat() if row.changed_at else None
    return RoutingState(enabled=row.enabled, changed_by=row.changed_by, changed_at=changed)


def switch_routing(session: Session, *, enabled: bool, actor: str) -> RoutingState:
    """Turn routing on or off (audited, also when it was already so: HQ asked)."""
    row = session.get(RoutingSwitch, 1, with_for_update=True) or RoutingSwitch()
    was = row.enabled
    row.enabled, row.changed_by, row.changed_at = enabled, actor, utcnow()
    session.add(row)
    audit.record(session, actor=actor, action="routing.switch", entity_type="routing",
                 detail={"enabled": enabled, "was": was})  # fmt: skip
    session.flush()
    return routing_state(session)

"""The events that tell a branch: assignment (a round or real-time routing), leads near their
follow-up deadline, leads reclaimed. Each writes in the caller's transaction (writing.py)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import Select, select
from sqlmodel import Session, col

from app.notifications.writing import Told, notify_from_pairs, notify_from_query
from app.tables import Lead, RoundAssignment


def notify_assigned(
    session: Session, branch_id: int, lead_ids: Sequence[int], source: str = "routing"
) -> Told:
    """Leads just given to a branch outside a round (real-time routing): one notification."""
    return notify_from_pairs(
        session, pairs=((branch_id, lead_id) for lead_id in lead_ids), kind="assigned",
        source=source,
    )  # fmt: skip


def notify_round_assigned(session: Session, *, round_id: int) -> Told:
    """A committing round's assignments: one notification per receiving branch."""
    pairs: Select[Any, Any] = select(
        col(RoundAssignment.branch_id).label("branch_id"),
        col(RoundAssignment.lead_id).label("lead_id"),
    ).where(col(RoundAssignment.round_id) == round_id, col(RoundAssignment.branch_id).is_not(None))
    return notify_from_query(
        session, pairs=pairs, kind="assigned", source="round", round_id=round_id
    )


def notify_round_reclaims(session: Session, *, round_id: int) -> Told:
    """The lapsed assignments a committing round takes back, told to the branches that lose
    them (call it before the round clears their branch)."""
    pairs: Select[Any, Any] = (
        select(col(Lead.branch_id).label("branch_id"), col(Lead.id).label("lead_id"))
        .join(RoundAssignment, col(RoundAssignment.lead_id) == col(Lead.id))
        .where(col(RoundAssignment.round_id) == round_id)
        .where(col(Lead.status) == "assigned", col(Lead.branch_id).is_not(None))
    )
    return notify_from_query(
        session, pairs=pairs, kind="reclaimed", source="round", round_id=round_id
    )


def notify_reclaimed(session: Session, *, released: Iterable[tuple[int, int]]) -> Told:
    """Leads reclaimed between rounds, as (branch that lost it, lead id) pairs."""
    return notify_from_pairs(session, pairs=released, kind="reclaimed", source="followup")

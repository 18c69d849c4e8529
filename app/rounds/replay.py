"""Replaying a stored round: rebuild its instance from the snapshot and solve it again.

Leads keep their coordinates from import on, so the snapshot stores only what can change
(branch specs and remaining capacities, parameters) plus each lead's solved class. The same
instance must give the same plan: this is how an auditor checks a round after the fact.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from sqlmodel import Session, col, select

from allocation.model import LeadSpec
from app.errors import Conflict
from app.rounds.service import get_round_row
from app.rounds.solving import instance_from_snapshot, solve_instance
from app.tables import Lead, RoundAssignment


@dataclass(frozen=True, slots=True)
class ReplayResult:
    round_id: int
    leads: int
    differences: int
    objective: float
    stored_objective: float | None

    @property
    def identical(self) -> bool:
        return self.differences == 0


def replay_round(session: Session, *, round_id: int, time_limit_s: float = 60.0) -> ReplayResult:
    allocation_round = get_round_row(session, round_id)
    data = json.loads(allocation_round.instance)
    if not data:
        raise Conflict(f"round {round_id} has no instance snapshot to replay")
    rows = session.exec(
        select(RoundAssignment, Lead)
        .join(Lead, col(Lead.id) == col(RoundAssignment.lead_id))
        .where(
            col(RoundAssignment.round_id) == round_id,
            col(RoundAssignment.follows_lead_id).is_(None),
        )
        .order_by(col(RoundAssignment.lead_id))
    ).all()
    leads = [_lead_spec(lead, assignment.lead_class) for assignment, lead in rows]
    instance = instance_from_snapshot(data, leads=leads)
    solved = solve_instance(instance, time_limit_s=time_limit_s, baseline_max_leads=0)
    stored = {assignment.lead_id: assignment.branch_id for assignment, _ in rows}
    differences = sum(1 for o in solved.outcomes if stored.get(o.lead_id) != o.branch_id)
    return ReplayResult(
        round_id=round_id,
        leads=len(leads),
        differences=differences,
        objective=solved.plan.objective,
        stored_objective=allocation_round.objective,
    )


def _lead_spec(lead: Lead, lead_class: str | None) -> LeadSpec:
    return LeadSpec(
        external_id=str(lead.id),
        lat=lead.lat,
        lon=lead.lon,
        tier=lead_class or lead.tier,
        region_code=lead.region_code,
        channel=lead.channel,
    )

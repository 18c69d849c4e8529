"""Reading rounds and their assignments for the API and the CLI."""

from __future__ import annotations

import json

from sqlalchemy import func
from sqlmodel import Session, col, select

from app.rounds.schemas import AssignmentList, AssignmentRead, BranchLoad, RoundRead
from app.rounds.service import get_round_row
from app.tables import AllocationRound, Branch, RoundAssignment


def read_round(session: Session, *, round_id: int) -> RoundRead:
    row = get_round_row(session, round_id)
    report = json.loads(row.report)
    assert row.id is not None
    return RoundRead(
        id=row.id,
        status=row.status,
        balance_weight=row.balance_weight,
        max_distance_km=row.max_distance_km,
        solver_status=row.solver_status,
        pool_size=row.pool_size,
        assigned=row.assigned,
        unassigned=row.unassigned,
        objective=row.objective,
        lower_bound=row.lower_bound,
        gap=row.gap,
        solve_seconds=row.solve_seconds,
        branches=[BranchLoad(**b) for b in report.get("branches", [])],
        report=report,
        created_by=row.created_by,
        created_at=row.created_at,
        committed_by=row.committed_by,
        committed_at=row.committed_at,
    )


def list_rounds(session: Session, *, limit: int, offset: int) -> list[RoundRead]:
    ids = session.exec(
        select(AllocationRound.id)
        .order_by(col(AllocationRound.id).desc())
        .limit(limit)
        .offset(offset)
    ).all()
    return [read_round(session, round_id=i) for i in ids if i is not None]


def list_assignments(session: Session, *, round_id: int, limit: int, offset: int) -> AssignmentList:
    get_round_row(session, round_id)
    base = select(RoundAssignment, Branch.code).join(
        Branch, col(RoundAssignment.branch_id) == col(Branch.id), isouter=True
    )
    base = base.where(col(RoundAssignment.round_id) == round_id)
    total = session.exec(
        select(func.count())
        .select_from(RoundAssignment)
        .where(col(RoundAssignment.round_id) == round_id)
    ).one()
    rows = session.exec(
        base.order_by(col(RoundAssignment.lead_id)).limit(limit).offset(offset)
    ).all()
    items = [
        AssignmentRead(
            lead_id=a.lead_id,
            branch_code=code,
            distance_km=a.distance_km,
            cost=a.cost,
            reason=a.reason,
            explanation=a.explanation,
        )
        for a, code in rows
    ]
    return AssignmentList(items=items, total=int(total))

"""Does a solved round still fit the branches as they are now? Checked again at commit.

Between the preview and the commit, HQ may lower a capacity, close a branch or change the tiers
it serves, and transfers may fill a branch. The commit re-checks every branch the plan uses
against the same rules as every other path (app.ownership.holdings) and refuses a stale plan
with a 409 that names the branches.

On a sharded cluster each node holds only its customers' part of a branch's load: `node_loads`
is one node's part and `overfull` compares the sum of the parts with the capacity, so a
coordinator checks the whole branch before the nodes commit (docs/scale-out.md, "Simulated").
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlmodel import Session, col
from sqlmodel import select as sm_select

from app.errors import StalePreview
from app.ownership.holdings import in_follow_up, serves
from app.tables import Branch, Lead, RoundAssignment
from coded_messages import Message, message


@dataclass(frozen=True, slots=True)
class PlannedLoad:
    branch: Branch
    lead_class: str
    customers: int


@dataclass(frozen=True, slots=True)
class NodeLoads:
    """Customers per branch id on one database node: planned by the round, and held in
    follow-up that the round does not touch."""

    planned: dict[int, int]
    kept: dict[int, int]


def check_plan_still_fits(session: Session, *, round_id: int) -> None:
    """Raise Conflict naming every branch the plan would overfill or that may no longer take
    the customers planned for it. Branch rows are locked first, so no transfer slips in."""
    branches = {
        b.id: b for b in session.exec(sm_select(Branch).order_by(col(Branch.id)).with_for_update())
    }
    planned = _planned(session, round_id=round_id, branches=branches)
    kept = _kept_loads(session, round_id=round_id)
    tiers_now = _customer_tiers_now(session, round_id=round_id, branches=branches)
    loads = NodeLoads(planned=_planned_counts(planned), kept=kept)
    problems = (*_ineligible(planned + tiers_now), *overfull(branches.values(), [loads]))
    if problems:
        raise StalePreview(message("round.no_longer_fits", round=round_id, problems=problems))


def node_loads(session: Session, *, round_id: int) -> NodeLoads:
    """This node's part of every branch's load after the commit (no lock taken)."""
    branches = {b.id: b for b in session.exec(sm_select(Branch))}
    planned = _planned(session, round_id=round_id, branches=branches)
    return NodeLoads(planned=_planned_counts(planned), kept=_kept_loads(session, round_id=round_id))


def _planned_counts(planned: list[PlannedLoad]) -> dict[int, int]:
    counts: Counter[int] = Counter()
    for item in planned:
        counts[item.branch.id or 0] += item.customers
    return dict(counts)


def _planned(
    session: Session, *, round_id: int, branches: dict[int | None, Branch]
) -> list[PlannedLoad]:
    """Customers (the representative leads) the plan gives each branch, by eligibility class."""
    query = (
        select(col(RoundAssignment.branch_id), col(RoundAssignment.lead_class), func.count())
        .where(col(RoundAssignment.round_id) == round_id)
        .where(col(RoundAssignment.branch_id).is_not(None))
        .where(col(RoundAssignment.follows_lead_id).is_(None))
        .group_by(col(RoundAssignment.branch_id), col(RoundAssignment.lead_class))
    )
    return [
        PlannedLoad(branch=branches[branch_id], lead_class=lead_class or "", customers=int(n))
        for branch_id, lead_class, n in session.execute(query)
    ]


def _customer_tiers_now(
    session: Session, *, round_id: int, branches: dict[int | None, Branch]
) -> list[PlannedLoad]:
    """Every tier the planned customers' leads hold now, per planned branch: a lead imported
    since the solve can raise its customer's tier above what the planned branch serves."""
    query = (
        select(col(RoundAssignment.branch_id), col(Lead.tier))
        .distinct()
        .join(Lead, col(Lead.customer_id) == col(RoundAssignment.customer_id))
        .where(col(RoundAssignment.round_id) == round_id)
        .where(col(RoundAssignment.branch_id).is_not(None))
    )
    return [
        PlannedLoad(branch=branches[branch_id], lead_class=tier or "", customers=0)
        for branch_id, tier in session.execute(query)
    ]


def _kept_loads(session: Session, *, round_id: int) -> dict[int, int]:
    """Customers each branch holds in follow-up that this round does not touch."""
    # Uncorrelated, computed once: the customers this round touches.
    in_round = select(col(RoundAssignment.customer_id)).where(
        col(RoundAssignment.round_id) == round_id
    )
    query = (
        select(col(Lead.branch_id), func.count(func.distinct(col(Lead.customer_id))))
        .where(in_follow_up())
        .where(col(Lead.customer_id).not_in(in_round))
        .group_by(col(Lead.branch_id))
    )
    return {int(b): int(n) for b, n in session.execute(query)}


def _ineligible(planned: list[PlannedLoad]) -> list[Message]:
    problems: dict[str, Message] = {}
    for item in planned:
        tier, _, excluded = item.lead_class.partition("!")
        code = item.branch.code
        if not item.branch.active:
            problems[code] = message("branch.inactive", branch=code)
        elif tier and not serves(item.branch, tier):
            problems.setdefault(code, message("branch.no_longer_serves", branch=code, tier=tier))
        elif excluded == code:
            problems.setdefault(code, message("branch.gave_up", branch=code))
    return list(problems.values())


def overfull(branches: Iterable[Branch], parts: Iterable[NodeLoads]) -> list[Message]:
    """Every branch the plan would fill past its capacity, summing the nodes' parts."""
    incoming: Counter[int] = Counter()
    kept: Counter[int] = Counter()
    for part in parts:
        incoming.update(part.planned)
        kept.update(part.kept)
    by_id = {b.id or 0: b for b in branches}
    problems = []
    for branch_id, count in sorted(incoming.items()):
        branch, held = by_id[branch_id], kept.get(branch_id, 0)
        if held + count > branch.capacity:
            problems.append(
                message("branch.would_overflow", branch=branch.code, total=held + count,
                        capacity=branch.capacity, held=held, planned=count)
            )  # fmt: skip
    return problems

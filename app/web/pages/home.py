"""The first page after sign-in: what needs attention, for each role."""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import Session

from app.auth import Principal
from app.journal.views import Credited, branch_credited
from app.ownership.deadline import FollowUp
from app.rounds.queries import list_rounds
from app.rounds.schemas import RoundRead
from app.web.pages.finance import FinanceDashboard, current_period, finance_dashboard
from app.web.pages.hq import BranchRow, BranchTable, PoolSummary, branch_table, pool_summary
from app.web.pages.inbox import InboxPage, InboxQuery, inbox_page, overdue_count

TOP_BRANCHES = 8
OLDEST_LEADS = 8


@dataclass(frozen=True, slots=True)
class BranchDashboard:
    oldest: InboxPage  # the oldest leads still waiting for a first contact
    overdue: int
    followup_hours: int
    period: str
    revenue: Credited  # the branch's own revenue credited this month (from the ledger)


@dataclass(frozen=True, slots=True)
class HqDashboard:
    pool: PoolSummary
    branches: BranchTable
    latest_round: RoundRead | None

    @property
    def busiest(self) -> list[BranchRow]:
        return [r for r in self.branches.rows if r.active][:TOP_BRANCHES]


def dashboard(
    session: Session, *, principal: Principal, followup: FollowUp
) -> BranchDashboard | HqDashboard | FinanceDashboard | None:
    """Branch staff see their follow-up queue and revenue; finance the month's ledger; HQ and
    auditors the pool and the load."""
    if principal.role == "branch":
        return _branch_dashboard(session, principal=principal, followup=followup)
    if principal.role == "finance":
        return finance_dashboard(session)
    if principal.role in ("hq", "auditor"):
        latest = next(iter(list_rounds(session, limit=1, offset=0)), None)
        return HqDashboard(
            pool=pool_summary(session), branches=branch_table(session, sort="load"),
            latest_round=latest,
        )  # fmt: skip
    return None


def _branch_dashboard(
    session: Session, *, principal: Principal, followup: FollowUp
) -> BranchDashboard:
    query = InboxQuery(status="assigned", sort="oldest", page_size=OLDEST_LEADS)
    period = current_period()
    # Scoped to the caller's own branch: the account is derived from the principal only.
    revenue = branch_credited(session, branch_code=principal.branch_code or "", period=period)
    return BranchDashboard(
        oldest=inbox_page(session, principal=principal, query=query, followup=followup),
        overdue=overdue_count(session, principal=principal, followup=followup),
        followup_hours=followup.hours,
        period=str(period),
        revenue=revenue,
    )

"""Finance pages: import batches, a month of the ledger by account and branch, statements.

Everything is read through `app.journal.views` (read-only queries) and `app.journal.service`;
no ledger rule is re-implemented here.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import Session

from app.journal import service, views
from app.journal.schemas import StatementRead
from app.journal.views import AccountTotal, PeriodRow
from app.tables.base import utcnow
from app.tables.journal import RevenueBatchRow
from ledger.accounts import AccountKind
from ledger.periods import Period, period_of

BATCHES_PER_PAGE = 20


@dataclass(frozen=True, slots=True)
class ImportsView:
    batches: list[RevenueBatchRow]
    total: int
    page: int
    pages: int


@dataclass(frozen=True, slots=True)
class BranchRevenue:
    code: str
    name: str
    credited_fen: int
    postings: int


@dataclass(frozen=True, slots=True)
class LedgerView:
    period: str
    periods: list[PeriodRow]
    accounts: list[AccountTotal]
    branches: list[BranchRevenue]
    close_suggestion: str

    def _credited(self, kind: AccountKind) -> int:
        return sum(a.credited_fen for a in self.accounts if a.kind == kind)

    @property
    def branches_fen(self) -> int:
        return self._credited(AccountKind.BRANCH_REVENUE)

    @property
    def hq_fen(self) -> int:
        return self._credited(AccountKind.HQ_REVENUE)

    @property
    def suspense_fen(self) -> int:
        return self._credited(AccountKind.SUSPENSE)

    @property
    def revenue_fen(self) -> int:
        return self.branches_fen + self.hq_fen + self.suspense_fen

    @property
    def closed(self) -> PeriodRow | None:
        return next((p for p in self.periods if p.period == self.period and p.closed), None)


@dataclass(frozen=True, slots=True)
class StatementsView:
    period: str
    closed: list[str]
    items: list[StatementRead]
    names: dict[str, str]


def current_period() -> Period:
    return period_of(utcnow())


def imports_view(session: Session, *, page: int) -> ImportsView:
    rows, total = views.batches(
        session, limit=BATCHES_PER_PAGE, offset=(page - 1) * BATCHES_PER_PAGE
    )
    pages = max(1, -(-total // BATCHES_PER_PAGE))
    return ImportsView(batches=rows, total=total, page=page, pages=pages)


def ledger_view(session: Session, *, period: str | None) -> LedgerView:
    """One month by account and branch; by default the latest month with entries."""
    known = views.periods(session)
    chosen = service.period_from(period) if period else _default_period(known)
    accounts = views.account_totals(session, period=chosen)
    names = views.branch_names(session)
    branches = [
        BranchRevenue(a.branch_code, names.get(a.branch_code, ""), a.credited_fen, a.postings)
        for a in accounts
        if a.kind == AccountKind.BRANCH_REVENUE and a.branch_code
    ]
    branches.sort(key=lambda b: (-b.credited_fen, b.code))
    return LedgerView(
        period=str(chosen), periods=known, accounts=accounts, branches=branches,
        close_suggestion=close_suggestion(known),
    )  # fmt: skip


def _default_period(known: list[PeriodRow]) -> Period:
    with_entries = [p.period for p in known if p.entries]
    return service.period_from(with_entries[0]) if with_entries else current_period()


def close_suggestion(known: list[PeriodRow]) -> str:
    """The month to close next: the earliest ended month with entries that is still open, else
    the month after the latest closed one if it has ended ("" when nothing can be closed)."""
    now = str(current_period())
    closed = [p.period for p in known if p.closed]
    latest = max(closed, default="")
    waiting = sorted(p.period for p in known if not p.closed and latest < p.period < now)
    if waiting:
        return waiting[0]
    following = str(service.period_from(latest).next()) if latest else now
    return following if following < now else ""


def statements_view(session: Session, *, period: str | None) -> StatementsView:
    found = service.list_statements(session, period=period)
    closed = [str(p) for p in reversed(views.closed_periods(session))]
    return StatementsView(
        period=period or "", closed=closed, items=found.items, names=views.branch_names(session)
    )


@dataclass(frozen=True, slots=True)
class FinanceDashboard:
    ledger: LedgerView
    latest_batch: RevenueBatchRow | None
    pending_corrections: int  # corrections waiting for a second finance user

    @property
    def waiting(self) -> list[str]:
        """Ended months with entries that are not closed yet."""
        now = str(current_period())
        return sorted(p.period for p in self.ledger.periods if not p.closed and p.period < now)


def finance_dashboard(session: Session) -> FinanceDashboard:
    batches, _total = views.batches(session, limit=1, offset=0)
    return FinanceDashboard(
        ledger=ledger_view(session, period=str(current_period())),
        latest_batch=next(iter(batches), None),
        pending_corrections=service.list_corrections(session, pending_only=True).total,
    )


@dataclass(frozen=True, slots=True)
class KpiReport:
    """Channels (rows) by period (columns): the points their overlay credits earned."""

    periods: list[str]
    channels: list[str]
    points: dict[tuple[str, str], int]  # (channel, period) -> points

    def total_of(self, channel: str) -> int:
        return sum(self.points.get((channel, p), 0) for p in self.periods)

    def period_total(self, period: str) -> int:
        return sum(self.points.get((c, period), 0) for c in self.channels)

    @property
    def total(self) -> int:
        return sum(self.points.values())


def kpi_report(session: Session, *, last: int = 12) -> KpiReport:
    """The latest `last` periods with overlay credits."""
    found = views.channel_kpi(session)
    periods = sorted({k.period for k in found})[-last:]
    shown = [k for k in found if k.period in periods]
    return KpiReport(periods=periods, channels=sorted({k.channel for k in shown}),
                     points={(k.channel, k.period): k.points for k in shown})  # fmt: skip

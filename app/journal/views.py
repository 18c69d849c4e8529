"""Read-only ledger queries for the finance and branch pages (nothing here writes).

Amounts are integer fen as stored: a posting is signed, debit positive, so what an account
was *credited* is the negated sum. Everything is per period (the posting month), which is what
a closed month's statements and exports cover too.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, text
from sqlmodel import Session, col, select

from app.journal.store import period_lock
from app.journal.store.posting_records import BRANCH_ACCOUNTS
from app.tables import Branch
from app.tables.journal import ClosedPeriodRow, RevenueBatchRow
from ledger.accounts import AccountKind, parse_account
from ledger.periods import Period

_ACCOUNT_TOTALS = """
    SELECT p.account,
           COALESCE(SUM(CASE WHEN p.amount > 0 THEN p.amount ELSE 0 END), 0),
           COALESCE(SUM(CASE WHEN p.amount < 0 THEN -p.amount ELSE 0 END), 0),
           COUNT(*)
    FROM ledger_line p
    WHERE p.period = :period AND p.unit = 'CNY'
    GROUP BY p.account
"""
_PERIODS = "SELECT period, COUNT(*) FROM ledger_entry GROUP BY period"
# One branch account in one period, each half of ``ledger_line`` by its own index: the stored
# postings through the partial branch index, the credit rows (whose branch leg credits the
# owner) through their period index. A single WHERE on the view leaves SQLite choosing the
# period index for the stored half as well.
_ACCOUNT_IN_PERIOD = f"""
    SELECT COALESCE(SUM(t.fen), 0), COALESCE(SUM(t.n), 0) FROM (
        SELECT SUM(-p.amount) AS fen, COUNT(*) AS n
        FROM journal_posting p JOIN journal_entry e ON e.id = p.entry_id
        WHERE p.account = :account AND e.period = :period AND {BRANCH_ACCOUNTS}
        UNION ALL
        SELECT SUM(r.amount_fen), COUNT(*) FROM revenue_event r
        JOIN revenue_batch b ON b.id = r.batch_id
        WHERE r.period = :period AND 'branch:' || r.owner_code || '\\:revenue' = :account
    ) t
"""


_CHANNEL_KPI = """
    SELECT p.period, p.account, COALESCE(SUM(-p.amount), 0), COUNT(*)
    FROM ledger_line p
    WHERE p.unit = 'KPI' AND p.account LIKE 'channel:%'
    GROUP BY p.period, p.account
"""


@dataclass(frozen=True, slots=True)
class ChannelKpi:
    """The KPI points a channel's overlay credits earned in one period (never money)."""

    period: str
    channel: str
    points: int
    postings: int


def channel_kpi(session: Session) -> list[ChannelKpi]:
    """Every channel's overlay points per period, oldest period first."""
    rows = session.execute(text(_CHANNEL_KPI)).all()
    found = [ChannelKpi(str(period), str(account).split(":")[1], int(points), int(n))
             for period, account, points, n in rows]  # fmt: skip
    return sorted(found, key=lambda k: (k.period, k.channel))


@dataclass(frozen=True, slots=True)
class AccountTotal:
    """One CNY account's postings in a period."""

    account: str
    kind: AccountKind
    branch_code: str | None
    debit_fen: int
    credit_fen: int
    postings: int

    @property
    def credited_fen(self) -> int:
        """Net credit (what a revenue account received; negative for a clearing account)."""
        return self.credit_fen - self.debit_fen


@dataclass(frozen=True, slots=True)
class PeriodRow:
    period: str
    entries: int
    closed_at: datetime | None
    closed_by: str | None

    @property
    def closed(self) -> bool:
        return self.closed_at is not None


@dataclass(frozen=True, slots=True)
class Credited:
    fen: int
    postings: int


def account_totals(session: Session, *, period: Period) -> list[AccountTotal]:
    """Every CNY account with postings in ``period``, by account code (byte order)."""
    rows = session.execute(text(_ACCOUNT_TOTALS), {"period": str(period)}).all()
    totals = [_total(str(a), int(d), int(c), int(n)) for a, d, c, n in rows]
    return sorted(totals, key=lambda t: t.account.encode())


def _total(code: str, debit: int, credit: int, postings: int) -> AccountTotal:
    account = parse_account(code)
    return AccountTotal(
        account=code, kind=account.kind, branch_code=account.branch_code,
        debit_fen=debit, credit_fen=credit, postings=postings,
    )  # fmt: skip


def periods(session: Session) -> list[PeriodRow]:
    """Every period with entries or closed, newest first, with who closed it and when."""
    counts = {str(p): int(n) for p, n in session.execute(text(_PERIODS))}
    closed = {c.period: c for c in session.exec(select(ClosedPeriodRow))}
    rows = [_period_row(p, counts.get(p, 0), closed.get(p)) for p in set(counts) | set(closed)]
    return sorted(rows, key=lambda r: r.period, reverse=True)


def _period_row(period: str, entries: int, closed: ClosedPeriodRow | None) -> PeriodRow:
    return PeriodRow(
        period=period, entries=entries, closed_at=closed.closed_at if closed else None,
        closed_by=closed.closed_by if closed else None,
    )  # fmt: skip


def closed_periods(session: Session) -> list[Period]:
    return period_lock.closed_periods(session)


def batches(session: Session, *, limit: int, offset: int) -> tuple[list[RevenueBatchRow], int]:
    """Revenue import batches, newest first, and how many there are."""
    total = session.exec(select(func.count()).select_from(RevenueBatchRow)).one()
    query = (
        select(RevenueBatchRow).order_by(col(RevenueBatchRow.id).desc()).limit(limit).offset(offset)
    )
    return list(session.exec(query)), int(total)


def branch_credited(session: Session, *, branch_code: str, period: Period) -> Credited:
    """What the branch's revenue account was credited by entries posted in ``period``."""
    params = {"account": f"branch:{branch_code}:revenue", "period": str(period)}
    fen, postings = session.execute(text(_ACCOUNT_IN_PERIOD), params).one()
    return Credited(fen=int(fen), postings=int(postings))


def branch_names(session: Session) -> dict[str, str]:
    return dict(session.exec(select(Branch.code, Branch.name)).all())

"""Closing a month for good, and the per-branch statements stored with their hash.

Decisions: a month can be closed only once it has ended in Shanghai time (the current or a
future month is refused: revenue may still arrive), and months close in order (an earlier
month with entries must be closed first), so "closed" is simply "at or before the latest
closed month". That keeps every statement's opening balance fixed for ever.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import text
from sqlmodel import Session

from app import audit
from app.errors import Conflict, InvalidInput
from app.faults import crash_point
from app.journal.store import period_lock, posting_records
from app.journal.store.posting_records import BRANCH_ACCOUNTS
from app.tables.journal import ClosedPeriodRow, StatementRow
from coded_messages import message
from ledger.errors import InvalidPeriodError, PeriodClosedError
from ledger.periods import Period, check_can_close
from ledger.statements import build_statement, render_statement, statement_sha256

_BRANCH_ACCOUNTS = """
    SELECT p.account,
           COALESCE(SUM(CASE WHEN p.period < :period THEN -p.amount ELSE 0 END), 0)
    FROM ledger_line p
    WHERE p.account LIKE 'branch:%' AND p.period <= :period
    GROUP BY p.account ORDER BY p.account
"""
_OPEN_EARLIER = """
    SELECT DISTINCT period FROM ledger_entry WHERE period < :period AND period > :latest
    ORDER BY period
"""


@dataclass(frozen=True, slots=True)
class BuiltStatement:
    branch_code: str
    period: Period
    body: bytes
    sha256: str
    line_count: int
    closing_fen: int


def close_period(
    session: Session, *, period: Period, actor: str, now: datetime
) -> list[BuiltStatement]:
    """Close ``period`` and store its statements; waits for in-flight postings first."""
    period_lock.take_close_lock(session)
    closed = period_lock.closed_periods(session)
    _check_closable(session, period=period, closed=closed, now=now)
    session.add(ClosedPeriodRow(period=str(period), closed_at=now, closed_by=actor[:64]))
    session.flush()
    crash_point("ledger.close.after_period_row")
    built = build_statements(session, period=period)
    crash_point("ledger.close.after_statement_build")
    for statement in built:
        session.add(StatementRow(
            branch_code=statement.branch_code, period=str(period), sha256=statement.sha256,
            body=statement.body.decode("utf-8"), line_count=statement.line_count,
            closing_fen=statement.closing_fen, created_at=now,
        ))  # fmt: skip
    audit.record(
        session, actor=actor, action="ledger.close", entity_type="period", entity_id=str(period),
        detail={"statements": {s.branch_code: s.sha256 for s in built}},
    )  # fmt: skip
    crash_point("ledger.close.before_commit")
    return built


def _check_closable(
    session: Session, *, period: Period, closed: list[Period], now: datetime
) -> None:
    try:
        check_can_close(period=period, now=now, closed=closed)
    except PeriodClosedError as exc:
        raise Conflict(exc.said or str(exc)) from None
    except InvalidPeriodError:
        raise InvalidInput(message("close.not_ended", period=str(period))) from None
    if closed and period < closed[-1]:
        raise Conflict(message("close.before_closed", period=str(period), closed=str(closed[-1])))
    latest = str(closed[-1]) if closed else "0000-00"
    params = {"period": str(period), "latest": latest}
    earlier = [str(row[0]) for row in session.execute(text(_OPEN_EARLIER), params)]
    if earlier:
        raise Conflict(message("close.in_order", earlier=", ".join(earlier), period=str(period)))


def build_statements(session: Session, *, period: Period) -> list[BuiltStatement]:
    """Every branch statement of ``period``, rebuilt from the stored postings."""
    rows = session.execute(text(_BRANCH_ACCOUNTS), {"period": str(period)}).all()
    return [
        build_one(session, account=str(account), period=period, opening=int(opening))
        for account, opening in rows
    ]


def build_one(session: Session, *, account: str, period: Period, opening: int) -> BuiltStatement:
    found = posting_records.stream_records(
        session, where=f"p.account = :account AND {BRANCH_ACCOUNTS} AND p.period = :period",
        params={"account": account, "period": str(period)}, order=posting_records.ENTRY_ORDER,
    )  # fmt: skip
    branch_code = account.split(":")[1]
    statement = build_statement(
        branch_code=branch_code, period=period, opening_fen=opening, records=found
    )
    return BuiltStatement(
        branch_code=branch_code,
        period=period,
        body=render_statement(statement),
        sha256=statement_sha256(statement),
        line_count=len(statement.lines),
        closing_fen=statement.closing_fen,
    )

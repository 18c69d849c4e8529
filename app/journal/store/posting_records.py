"""Reading stored postings back as core :class:`ledger.records.PostingRecord` objects."""

from __future__ import annotations

from collections.abc import Iterator
from functools import lru_cache
from typing import Any

from sqlalchemy import text
from sqlmodel import Session

from app import bulk
from app.db import is_sqlite
from ledger.accounts import Account, parse_account
from ledger.entries import EntryKind
from ledger.periods import Period, parse_period
from ledger.records import PostingRecord

# The partial index on posting accounts (migration 0008) holds branch accounts only; a query
# by account repeats its condition word for word so that both databases may use it.
BRANCH_ACCOUNTS = "p.account LIKE 'branch:%'"

_SELECT = """
    SELECT p.entry_id, p.kind, p.event_id, p.occurred_at, p.posted_at, p.period, p.account, p.amount
    FROM ledger_line p
    WHERE {where}
    ORDER BY {order}
"""
# Accounts compare byte-wise everywhere, as the core sorts them (PostgreSQL would otherwise
# use the database collation).
EXPORT_ORDER = "p.posted_at, p.entry_id, p.account{collate}"
ENTRY_ORDER = "p.entry_id, p.line_no"


def account_order(session: Session) -> str:
    return EXPORT_ORDER.format(collate="" if is_sqlite(session) else ' COLLATE "C"')


def stream_records(
    session: Session, *, where: str, params: dict[str, Any], order: str, page: int = 10_000
) -> Iterator[PostingRecord]:
    """Records matching ``where``, streamed (server-side cursor on PostgreSQL)."""
    sql = text(_SELECT.format(where=where, order=order))
    result = session.execute(sql, params, execution_options={"yield_per": page})
    for row in result:
        yield to_record(row)


def to_record(row: Any) -> PostingRecord:
    entry_id, kind, event_id, occurred_at, posted_at, period, account, amount = row
    return PostingRecord(
        entry_id=str(entry_id),
        kind=EntryKind(kind),
        event_id=event_id,
        occurred_at=bulk.parse_db_timestamp(occurred_at),
        posted_at=bulk.parse_db_timestamp(posted_at),
        period=_period(str(period)),
        account=_account(str(account)),
        amount=int(amount),
    )


@lru_cache(maxsize=4096)
def _account(code: str) -> Account:
    return parse_account(code)


@lru_cache(maxsize=1024)
def _period(text_: str) -> Period:
    return parse_period(text_)

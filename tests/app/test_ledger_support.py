"""Shared set-up for the ledger tests (no tests here): branches, leads, owners, imports."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from app.config import Settings
from app.db import make_engine, session_scope
from app.journal import posting
from app.journal.importer import RevenueImportReport, import_revenue
from app.tables import Branch, Customer, Lead, Ownership
from ledger.entries import JournalEntry
from tests.app.factories import load_branches, write

NOW = datetime(2026, 11, 25, 4, 0, tzinfo=UTC)
HEADER = "event_id,external_id,type,amount,occurred_at,channel\n"
# A1: customer owned by SZ-FT since September. B1: no customer, owned by BJ-CY for part of
# October. C1: never owned. D1 exists in two channels.
LEADS = (("app", "A1", "13800138000"), ("app", "B1", None), ("app", "C1", None),
         ("app", "D1", None), ("wechat", "D1", None))  # fmt: skip


@pytest.fixture
def ledger_engine(settings: Settings, tmp_path: Path) -> Iterator[Engine]:
    engine = make_engine(settings)
    load_branches(engine, tmp_path)
    with session_scope(engine) as session:
        branches = {b.code: int(b.id or 0) for b in session.exec(select(Branch))}
        customer = Customer(customer_key="k" * 64)
        session.add(customer)
        session.flush()
        leads: dict[tuple[str, str], int] = {}
        for channel, external_id, mobile in LEADS:
            lead = Lead(channel=channel, external_id=external_id, mobile=mobile,
                        customer_id=customer.id if mobile else None)  # fmt: skip
            session.add(lead)
            session.flush()
            leads[(channel, external_id)] = int(lead.id or 0)
        session.add(Ownership(
            lead_id=leads[("app", "A1")], customer_id=customer.id, branch_id=branches["SZ-FT"],
            valid_from=_at("2026-09-01"), opened_by="round"))  # fmt: skip
        session.add(Ownership(
            lead_id=leads[("app", "B1")], branch_id=branches["BJ-CY"], valid_from=_at("2026-10-01"),
            valid_to=_at("2026-10-20"), opened_by="round", close_reason="returned"))  # fmt: skip
    yield engine
    engine.dispose()


def _at(day: str) -> datetime:
    return datetime.fromisoformat(day + "T00:00:00+08:00")


def import_csv(
    engine: Engine, tmp_path: Path, body: str, *, name: str = "rev.csv", now: datetime = NOW
) -> RevenueImportReport:
    path = write(tmp_path, name, body)
    with session_scope(engine) as session:
        return import_revenue(session, path=path, actor="test", now=now, batch_rows=2)


def close_is_sealed(engine: Engine) -> bool:
    """Whether the audit record of a period close is linked into the audit chain."""
    sealed = """SELECT COUNT(*) FROM audit_seal s JOIN audit_log a ON a.id = s.audit_id
                WHERE a.action = 'ledger.close'"""
    return scalar(engine, sealed) == 1


def scalar(engine: Engine, sql: str) -> object:
    with engine.connect() as conn:
        return conn.execute(text(sql)).scalar()


_STORED_ENTRY = """
    SELECT e.kind, e.event_id, e.period, e.posting_count, e.memo, p.account, p.unit, p.amount
    FROM journal_entry e JOIN journal_posting p ON p.entry_id = e.id
    WHERE e.business_key = :key ORDER BY p.line_no
"""


def assert_stored_as_built(session: Session, built: list[JournalEntry]) -> None:
    """Every entry the core built is stored line by line as built (the core is the reference)."""
    closed = posting.ClosedThrough(())
    for entry in built:
        stored = session.execute(text(_STORED_ENTRY), {"key": entry.business_key}).all()
        period = str(posting.period_for(entry, now=NOW, closed=closed))
        assert [tuple(r) for r in stored] == [
            ("credit", entry.event_id, period, len(entry.postings), entry.memo,
             p.account.code, p.unit.value, p.amount)
            for p in entry.postings
        ]  # fmt: skip

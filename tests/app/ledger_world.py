"""Shared set-up for the ledger tests: branches, leads, owners, imports, policies, and the
API and CLI as finance uses them. Its fixtures are registered in tests/app/conftest.py."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
import typer
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlmodel import Session, select
from typer.testing import CliRunner

from app.cli.ledger import import_revenue_cmd, ledger_cli
from app.config import Settings, get_settings
from app.db import make_engine, session_scope
from app.errors import FileRejected
from app.journal import service
from app.journal.revenue_import.importer import RevenueImportReport, import_revenue
from app.journal.store import period_lock
from app.leads.customers import solo_customer
from app.main import create_app
from app.tables import Branch, Customer, Lead, Ownership
from ledger.entries import JournalEntry
from tests.app.factories import add_user, load_branches, login, write

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
        customer_of: dict[tuple[str, str], int] = {}
        for channel, external_id, mobile in LEADS:
            own = solo_customer(session, channel=channel, external_id=external_id)
            lead = Lead(channel=channel, external_id=external_id, mobile=mobile,
                        customer_id=customer.id if mobile else own)  # fmt: skip
            session.add(lead)
            session.flush()
            leads[(channel, external_id)] = int(lead.id or 0)
            customer_of[(channel, external_id)] = lead.customer_id
        session.add(Ownership(
            lead_id=leads[("app", "A1")], customer_id=customer.id, branch_id=branches["SZ-FT"],
            valid_from=_at("2026-09-01"), opened_by="round"))  # fmt: skip
        session.add(Ownership(
            lead_id=leads[("app", "B1")], customer_id=customer_of[("app", "B1")],
            branch_id=branches["BJ-CY"], valid_from=_at("2026-10-01"),
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
    FROM ledger_entry e JOIN ledger_posting p ON p.entry_id = e.id
    WHERE e.business_key = :key ORDER BY p.line_no
"""


def assert_stored_as_built(session: Session, built: list[JournalEntry]) -> None:
    """Every entry the core built is stored line by line as built (the core is the reference)."""
    closed = period_lock.ClosedThrough(())
    for entry in built:
        stored = session.execute(text(_STORED_ENTRY), {"key": entry.business_key}).all()
        period = str(period_lock.period_for(entry, now=NOW, closed=closed))
        assert [tuple(r) for r in stored] == [
            ("credit", entry.event_id, period, len(entry.postings), entry.memo,
             p.account.code, p.unit.value, p.amount)
            for p in entry.postings
        ]  # fmt: skip


# B1 is owned by BJ-CY from 1 to 20 October; C1 never has an owner; A1 is SZ-FT's.
SPLIT = [
    {"policy_id": "PF-1", "revenue_type": "product_fee", "valid_from": "2026-10-01",
     "branch_bps": 6667, "hq_online_bps": 3333, "overlay_bps": 5000, "reason": "O2O pilot"},
    {"policy_id": "AF-1", "revenue_type": "advisory_fee", "valid_from": "2026-10-01",
     "branch_bps": 5000, "hq_online_bps": 5000},
]  # fmt: skip


def add_policies(engine: Engine, tmp_path: Path, items: list[dict[str, object]],
                 name: str = "policy.json") -> None:  # fmt: skip
    path = write(tmp_path, name, json.dumps(items))
    with session_scope(engine) as session:
        service.add_policy_file(session, path=path, actor="fin1")


def balances(engine: Engine, where: str = "1 = 1") -> dict[str, int]:
    sql = f"""SELECT p.account, SUM(p.amount) FROM ledger_posting p
              JOIN ledger_entry e ON e.id = p.entry_id WHERE {where} GROUP BY p.account"""
    with engine.connect() as conn:
        return {str(a): int(t) for a, t in conn.execute(text(sql)) if int(t)}


def findings(engine: Engine) -> list[str]:
    with session_scope(engine) as session:
        found = service.verify_ledger(session)
    print(f"verify_findings={len(found)} threshold=0")
    return found


@pytest.fixture
def api(settings: Settings, ledger_engine: Engine) -> Iterator[TestClient]:
    from app.journal.routes import router

    for username, role in (("fin1", "finance"), ("aud1", "auditor"), ("hq1", "hq")):
        add_user(ledger_engine, username, role)
    app = create_app(settings)
    if not any(getattr(r, "path", "").startswith("/api/v1/ledger") for r in app.routes):
        app.include_router(router)
    with TestClient(app) as client:
        yield client
    app.state.engine.dispose()


def auth(client: TestClient, username: str) -> dict[str, str]:
    return login(client, username)


runner = CliRunner()


def o2o() -> typer.Typer:
    """The commands wired the way app/cli/__init__.py wires them."""
    root = typer.Typer()
    importer = typer.Typer()
    importer.command("revenue")(import_revenue_cmd)
    root.add_typer(importer, name="import")
    root.add_typer(ledger_cli, name="ledger")
    return root


@pytest.fixture
def cli_env(
    settings: Settings, ledger_engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Engine]:
    monkeypatch.setenv("O2O_DATABASE_URL", settings.database_url)
    monkeypatch.setenv("O2O_SECRET_KEY", settings.secret_key)
    get_settings.cache_clear()
    yield ledger_engine
    get_settings.cache_clear()


def described(exc: FileRejected) -> tuple[int, list[tuple[int, str, str]]]:
    return exc.total_errors, [(e.line, e.column, e.reason) for e in exc.errors]


@pytest.fixture
def postgres(ledger_engine: Engine) -> Engine:
    if ledger_engine.dialect.name == "sqlite":
        pytest.skip("parsing in worker processes is PostgreSQL's COPY path")
    return ledger_engine

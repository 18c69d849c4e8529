"""The migrations build exactly the schema the models describe, both ways, on both databases."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect, text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlmodel import SQLModel

import app.tables  # noqa: F401
from app.bulk import parse_db_timestamp
from app.config import Settings
from app.db import make_engine, session_scope
from app.migrations import SQLITE_TRIGGER_NOT_NULL, downgrade, include_object, upgrade
from app.tables import Branch, Customer, Lead, Ownership
from ledger.revenue import RevenueType, content_fingerprint
from tests.app.ledger_world import HEADER, import_csv

T0 = datetime(2026, 12, 1, 2, 0, tzinfo=UTC)


def _schema_diff(settings: Settings) -> list[object]:
    engine = make_engine(settings)
    with engine.connect() as conn:
        context = MigrationContext.configure(
            conn, opts={"compare_type": True, "include_object": include_object}
        )
        diff = compare_metadata(context, SQLModel.metadata)
        sqlite = conn.dialect.name == "sqlite"
    engine.dispose()
    return [change for change in diff if not (sqlite and _guarded_by_trigger(change))]


def _guarded_by_trigger(change: object) -> bool:
    """A column SQLite keeps nullable because a trigger requires it (SQLITE_TRIGGER_NOT_NULL)."""
    if not isinstance(change, list) or len(change) != 1:
        return False
    kind, _schema, table, column, *_rest = change[0]
    return kind == "modify_nullable" and (table, column) in SQLITE_TRIGGER_NOT_NULL


def test_upgrade_downgrade_upgrade_leaves_no_difference_from_the_models(settings: Settings) -> None:
    engine = make_engine(settings)
    downgrade(engine, "base")
    assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
    upgrade(engine, "head")
    engine.dispose()
    assert _schema_diff(settings) == []


def test_sqlite_connections_enforce_foreign_keys_and_use_wal(settings: Settings) -> None:
    engine = make_engine(settings)
    if engine.dialect.name != "sqlite":
        return
    with engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert (
            conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == settings.sqlite_busy_timeout_ms
        )


def test_0015_keeps_the_overlap_guard_both_ways_and_reads_routed_as_round_below_it(
    settings: Settings,
) -> None:
    """SQLite rebuilds the ownership table for the new CHECK, which drops its triggers: the
    migration must create them again on the way up and on the way down."""
    engine = make_engine(settings)
    downgrade(engine, "0014")
    upgrade(engine, "head")
    lead_id = _lead_with_a_routed_interval(engine)
    _assert_overlap_refused(engine, lead_id)
    downgrade(engine, "0014")
    with engine.connect() as conn:
        opened_by = conn.execute(text("SELECT opened_by FROM ownership")).scalar_one()
    assert opened_by == "round"  # no 'routed' below 0015: the round whose prices routed it
    _assert_overlap_refused(engine, lead_id)
    upgrade(engine, "head")
    _assert_overlap_refused(engine, lead_id)
    engine.dispose()


def _lead_with_a_routed_interval(engine: Engine) -> int:
    with session_scope(engine) as session:
        branch = Branch(code="R", name="R", lat=22.5, lon=114.0, capacity=1, tiers="")
        session.add(branch)
        session.flush()
        customer = Customer(customer_key="k-R-1")
        session.add(customer)
        session.flush()
        assert customer.id is not None
        lead = Lead(channel="app", external_id="R-1", status="assigned", branch_id=branch.id,
                    customer_id=customer.id)  # fmt: skip
        session.add(lead)
        session.flush()
        assert lead.id is not None
        assert branch.id is not None
        session.add(Ownership(lead_id=lead.id, customer_id=customer.id, branch_id=branch.id,
                              valid_from=T0, opened_by="routed", round_id=None))  # fmt: skip
        return lead.id


def _assert_overlap_refused(engine: Engine, lead_id: int) -> None:
    """A closed interval reaching into the open one: only the overlap guard can refuse it."""
    overlapping = {
        "lead": lead_id,
        "start": T0 - timedelta(hours=1),
        "end": T0 + timedelta(hours=1),
    }
    with pytest.raises(IntegrityError, match="may not overlap"), engine.begin() as conn:
        conn.execute(
            text("INSERT INTO ownership (lead_id, customer_id, branch_id, valid_from, valid_to, "
                 "opened_by, close_reason) SELECT :lead, customer_id, branch_id, :start, :end, "
                 "'transfer', 'transferred' FROM ownership WHERE lead_id = :lead"),
            overlapping,
        )  # fmt: skip


def test_0024_gives_a_lead_without_a_mobile_a_customer_of_its_own_and_keys_owners_by_it(
    settings: Settings,
) -> None:
    engine = make_engine(settings)
    downgrade(engine, "0018")
    with engine.begin() as conn:  # below 0024: a lead without a customer, and its interval
        conn.execute(text(
            "INSERT INTO branch (code, name, lat, lon, capacity, tiers, active, created_at, "
            "updated_at) VALUES ('S', 'S', 22.5, 114.0, 5, '', true, :t, :t)"), {"t": T0})  # fmt: skip
        conn.execute(text(
            "INSERT INTO lead (channel, external_id, tier, status, branch_id, created_at, "
            "updated_at) SELECT 'app', 'solo-1', 'mass', 'assigned', id, :t, :t FROM branch"
        ), {"t": T0})  # fmt: skip
        conn.execute(text(
            "INSERT INTO ownership (lead_id, branch_id, valid_from, opened_by) "
            "SELECT l.id, l.branch_id, :t, 'round' FROM lead l"), {"t": T0})  # fmt: skip
    upgrade(engine, "head")
    with engine.connect() as conn:
        key, lead_customer, owner_customer = conn.execute(text(
            "SELECT c.customer_key, l.customer_id, o.customer_id FROM lead l "
            "JOIN customer c ON c.id = l.customer_id JOIN ownership o ON o.lead_id = l.id"
        )).one()  # fmt: skip
    assert key.startswith("solo:")
    assert len(key) == 64
    assert lead_customer == owner_customer
    with pytest.raises(IntegrityError), engine.begin() as conn:  # a lead needs its customer
        conn.execute(text(
            "INSERT INTO lead (channel, external_id, tier, status, created_at, updated_at) "
            "VALUES ('app', 'solo-2', 'mass', 'new', :t, :t)"), {"t": T0})  # fmt: skip
    with pytest.raises(IntegrityError), engine.begin() as conn:  # one open owner per customer
        conn.execute(text(
            "INSERT INTO ownership (lead_id, customer_id, branch_id, valid_from, opened_by) "
            "SELECT lead_id, customer_id, branch_id, :t, 'transfer' FROM ownership"
        ), {"t": T0 + timedelta(days=1)})  # fmt: skip
    downgrade(engine, "0018")
    upgrade(engine, "head")
    assert _schema_diff(settings) == []
    engine.dispose()


def test_0033_downgrade_gives_every_stored_event_its_fingerprint_back(
    ledger_engine: Engine, settings: Settings, tmp_path: Path
) -> None:
    """Migration 0033 dropped the stored digest (content is compared column by column); the
    way back recomputes it as the core does, and leaves the table append-only."""
    body = HEADER + "F1,A1,other,1.25,2026-10-05T10:00:00.000001,app\n"
    body += "F2,C1,other,-3,2026-10-06,app\n"
    import_csv(ledger_engine, tmp_path, body)
    downgrade(ledger_engine, "0032")
    sql = ("SELECT event_id, external_id, revenue_type, amount_fen, occurred_at, fingerprint "
           "FROM revenue_event ORDER BY event_id")  # fmt: skip
    with ledger_engine.connect() as conn:
        rows = conn.execute(text(sql)).all()
    assert [row[0] for row in rows] == ["F1", "F2"]
    for event_id, external_id, kind, amount, occurred_at, stored in rows:
        instant = parse_db_timestamp(occurred_at)
        core = content_fingerprint(event_id, external_id, RevenueType(kind), amount, instant, None)
        assert stored == core
    with pytest.raises(DBAPIError), ledger_engine.begin() as conn:
        conn.execute(text("UPDATE revenue_event SET line = line + 1"))
    upgrade(ledger_engine, "head")
    assert _schema_diff(settings) == []

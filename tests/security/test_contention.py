"""Contention is answered 503 with Retry-After (or waited out), never 500, never half-applied.

Another connection holds what a request needs: SQLite's one write lock (`BEGIN IMMEDIATE`), or
a PostgreSQL row lock (`SELECT ... FOR UPDATE`). The app waits its configured time (SQLite's
busy timeout; PostgreSQL's `lock_timeout`, which an operator sets in the database URL), then
answers 503 with the API's problem body and writes nothing. Once the lock is gone the same
request succeeds. A real PostgreSQL serialization failure is mapped the same way.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import OperationalError

from app.config import Settings
from app.db import make_engine
from app.errors import DatabaseBusy, as_contention
from app.main import create_app
from tests.app.factories import PASSWORD, add_user, load_branches
from tests.web.helpers import add_lead, sign_in

LOCK_WAIT_MS = 200


@dataclass
class Contended:
    client: TestClient
    engine: Engine
    settings: Settings
    lead_id: int
    headers: dict[str, str]

    def lead_status(self) -> str:
        with self.engine.connect() as conn:
            query = text("SELECT status FROM lead WHERE id = :id")
            return str(conn.execute(query, {"id": self.lead_id}).scalar_one())


def _short_waits(settings: Settings) -> Settings:
    """The app's own lock waits, shortened so the test does not sit out the defaults."""
    if settings.database_url.startswith("sqlite"):
        return settings.model_copy(update={"sqlite_busy_timeout_ms": LOCK_WAIT_MS})
    options = quote(f"-c lock_timeout={LOCK_WAIT_MS}")
    return settings.model_copy(
        update={"database_url": f"{settings.database_url}?options={options}"}
    )


@pytest.fixture
def contended(settings: Settings, tmp_path: Path) -> Iterator[Contended]:
    short = _short_waits(settings)
    app = create_app(short)
    engine = app.state.engine
    load_branches(engine, tmp_path)
    add_user(engine, "sz1", "branch", "SZ-FT")
    with engine.connect() as conn:
        branch_id = conn.execute(text("SELECT id FROM branch WHERE code = 'SZ-FT'")).scalar_one()
    lead_id = add_lead(engine, external_id="L1", branch_id=int(branch_id))
    with TestClient(app, follow_redirects=False) as client:
        form = {"username": "sz1", "password": PASSWORD}
        token = client.post("/api/v1/auth/token", data=form).json()["access_token"]
        yield Contended(client, engine, short, lead_id, {"Authorization": f"Bearer {token}"})
    engine.dispose()


@contextmanager
def lock_held(world: Contended) -> Iterator[None]:
    """Another connection holds the lock the request's write needs, until the block ends."""
    if world.settings.database_url.startswith("sqlite"):
        path = world.settings.database_url.removeprefix("sqlite:///")
        holder = sqlite3.connect(path, isolation_level=None)
        holder.execute("BEGIN IMMEDIATE")  # SQLite's single write lock
        try:
            yield
        finally:
            holder.execute("ROLLBACK")
            holder.close()
        return
    holder_engine = make_engine(world.settings)
    with holder_engine.connect() as conn:
        query = text("SELECT id FROM lead WHERE id = :id FOR UPDATE")
        conn.execute(query, {"id": world.lead_id})
        try:
            yield
        finally:
            conn.rollback()
    holder_engine.dispose()


def test_a_write_behind_a_held_lock_gets_503_then_succeeds(contended: Contended) -> None:
    url = f"/api/v1/leads/{contended.lead_id}/contacted"
    with lock_held(contended):
        busy = contended.client.post(url, headers=contended.headers)
        assert contended.lead_status() == "assigned"  # nothing was written
    print(f"\nmetric=contention_status value={busy.status_code} threshold=409|503")
    assert busy.status_code == 503, busy.text
    assert busy.headers["Retry-After"] == "1"
    assert busy.json()["error"] == "database_busy"
    after = contended.client.post(url, headers=contended.headers)
    assert after.status_code == 200, after.text
    assert contended.lead_status() == "contacted"


def test_a_page_write_behind_a_held_lock_gets_a_503_page(contended: Contended) -> None:
    token = sign_in(contended.client, "sz1")
    url = f"/leads/{contended.lead_id}/contacted"
    with lock_held(contended):
        busy = contended.client.post(url, data={"csrf_token": token})
    assert busy.status_code == 503
    assert "请稍后重试" in busy.text
    assert contended.lead_status() == "assigned"


def test_a_real_serialization_failure_maps_to_database_busy(settings: Settings) -> None:
    if settings.database_url.startswith("sqlite"):
        pytest.skip("serialization failures (40001) are PostgreSQL's")
    engine = make_engine(settings)
    try:
        with engine.connect() as setup:
            setup.execute(text("CREATE TABLE counter (id int PRIMARY KEY, n int)"))
            setup.execute(text("INSERT INTO counter VALUES (1, 0)"))
            setup.commit()
        with engine.connect() as first, engine.connect() as second:
            first.execute(text("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ"))
            first.execute(text("SELECT n FROM counter")).all()  # takes the snapshot
            second.execute(text("UPDATE counter SET n = n + 1"))
            second.commit()
            with pytest.raises(OperationalError) as caught:
                first.execute(text("UPDATE counter SET n = n + 1"))
            first.rollback()
    finally:
        engine.dispose()
    assert getattr(caught.value.orig, "sqlstate", None) == "40001"
    assert isinstance(as_contention(caught.value), DatabaseBusy)

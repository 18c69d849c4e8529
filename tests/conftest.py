"""Test databases: every app test runs on SQLite and, when configured, on PostgreSQL.

Each dialect gets a template database built once by the Alembic migrations; every test gets a
fresh copy (a file copy on SQLite, CREATE DATABASE ... TEMPLATE on PostgreSQL), so tests never
share state and the schema under test is the one the migrations build.
"""

from __future__ import annotations

import itertools
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import psycopg
import pytest
from pwdlib import PasswordHash
from pwdlib.hashers.argon2 import Argon2Hasher
from sqlalchemy.engine import make_url

import app.auth
from app.clock import pinned_at
from app.config import Settings
from app.db import make_engine
from app.migrations import upgrade

POSTGRES_URL = os.environ.get("O2O_TEST_POSTGRES_URL")
REQUIRE_POSTGRES = os.environ.get("O2O_REQUIRE_POSTGRES") == "1"
TEST_SECRET = "test-secret-key-that-is-long-enough-0123456789"
_counter = itertools.count()
# Every test starts at this instant (a Wednesday, 10:00 in Shanghai) whatever the wall clock
# says; .ci/run also runs the suite under libfaketime at a month boundary to prove it.
TEST_NOW = datetime(2026, 11, 18, 2, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _pinned_clock() -> Iterator[None]:
    with pinned_at(TEST_NOW):
        yield


@pytest.fixture(autouse=True, scope="session")
def _cheap_argon2() -> None:
    """Still Argon2, but with test-sized cost: hundreds of users are created per run."""
    app.auth._hasher = PasswordHash((Argon2Hasher(time_cost=1, memory_cost=1024, parallelism=1),))


def dialects() -> list[str]:
    return ["sqlite", "postgresql"]


def settings_for(url: str) -> Settings:
    return Settings(database_url=url, secret_key=TEST_SECRET, _env_file=None)  # type: ignore[call-arg]


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "template.db"
    engine = make_engine(settings_for(f"sqlite:///{path}"))
    upgrade(engine)
    engine.dispose()
    return path


def _admin_connect() -> psycopg.Connection:
    assert POSTGRES_URL
    url = make_url(POSTGRES_URL).set(drivername="postgresql")
    return psycopg.connect(url.render_as_string(hide_password=False), autocommit=True)


def _pg_url(database: str) -> str:
    assert POSTGRES_URL
    url = make_url(POSTGRES_URL).set(drivername="postgresql", database=database)
    return url.render_as_string(hide_password=False)


@pytest.fixture(scope="session")
def postgres_template() -> Iterator[str]:
    if not POSTGRES_URL:
        if REQUIRE_POSTGRES:
            pytest.fail("O2O_REQUIRE_POSTGRES=1 but O2O_TEST_POSTGRES_URL is not set")
        pytest.skip("PostgreSQL not configured (set O2O_TEST_POSTGRES_URL)")
    name = f"o2o_template_{os.getpid()}"
    with _admin_connect() as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'CREATE DATABASE "{name}"')
    engine = make_engine(settings_for(_pg_url(name)))
    upgrade(engine)
    engine.dispose()
    yield name
    with _admin_connect() as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextmanager
def fresh_database(request: pytest.FixtureRequest, dialect: str) -> Iterator[Settings]:
    """Settings pointing at a new copy of the migrated template of `dialect`, dropped after."""
    if dialect == "sqlite":
        template: Path = request.getfixturevalue("sqlite_template")
        target = Path(tempfile.mkdtemp(prefix="o2o-test-")) / "test.db"
        shutil.copyfile(template, target)
        try:
            yield settings_for(f"sqlite:///{target}")
        finally:
            shutil.rmtree(target.parent, ignore_errors=True)
        return
    template_name: str = request.getfixturevalue("postgres_template")
    name = f"o2o_test_{os.getpid()}_{next(_counter)}"
    with _admin_connect() as conn:
        conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template_name}"')
    try:
        yield settings_for(_pg_url(name))
    finally:
        with _admin_connect() as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(params=dialects())
def settings(request: pytest.FixtureRequest) -> Iterator[Settings]:
    """Settings pointing at a fresh, fully migrated database of the parametrised dialect."""
    with fresh_database(request, request.param) as fresh:
        yield fresh

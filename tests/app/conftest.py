"""An API client over a fresh database, with three branches and one user per role."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import select

from app.config import Settings
from app.db import make_engine, session_scope
from app.main import create_app
from app.tables import Branch
from tests.app.factories import add_user, load_branches, login
from tests.app.funnel_world import funnel_world
from tests.app.ledger_world import api, cli_env, ledger_engine, postgres

__all__ = ["api", "cli_env", "funnel_world", "ledger_engine", "login", "postgres"]


@pytest.fixture
def engine(settings: Settings) -> Iterator[Engine]:
    engine = make_engine(settings)
    yield engine
    engine.dispose()


@pytest.fixture
def branch_ids(engine: Engine, tmp_path: Path) -> dict[str, int]:
    load_branches(engine, tmp_path)
    for username, role, branch in [
        ("hq1", "hq", None),
        ("fin1", "finance", None),
        ("aud1", "auditor", None),
        ("sz1", "branch", "SZ-FT"),
        ("bj1", "branch", "BJ-CY"),
    ]:
        add_user(engine, username, role, branch)
    with session_scope(engine) as session:
        return {b.code: b.id for b in session.exec(select(Branch)) if b.id is not None}


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    app = create_app(settings)
    with TestClient(app) as test_client:
        yield test_client
    app.state.engine.dispose()

"""A small world for security tests: three active branches, one actor per role, leads that moved.

Actors sign in through the real paths (POST /api/v1/auth/token and the login form); the
deactivated and the moved actor sign in first and lose their account or branch afterwards,
so their old token and cookie must stop working. Other security tests may use `security_world`.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlmodel import select

from app.config import Settings
from app.db import session_scope
from app.journal import service as ledger_service
from app.main import create_app
from app.tables import Branch
from app.users.service import create_user, deactivate_user, move_user
from tests.app.factories import PASSWORD, load_branches, write
from tests.web.finance_data import HEADER, own_leads
from tests.web.helpers import add_lead, sign_in

# Hypothesis runs built on `security_world`: a modest default for CI; raise it for a manual run
# with O2O_HYPOTHESIS_EXAMPLES=500. The world is built once per test, not once per example.
security_examples = hypothesis_settings(
    max_examples=int(os.environ.get("O2O_HYPOTHESIS_EXAMPLES", "30")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
    print_blob=True,
)

# Three active branches: A, B and C of the cross-branch tests.
BRANCH_A, BRANCH_B, BRANCH_C = "SZ-FT", "BJ-CY", "GZ-TH"
SECURITY_BRANCHES_CSV = """code,name,lat,lon,capacity,tiers,region_code,active
SZ-FT,深圳福田营业部,22.541,114.055,100,,440304,true
BJ-CY,北京朝阳营业部,39.921,116.443,80,,110105,true
GZ-TH,广州天河营业部,23.135,113.327,60,,440106,true
"""
# Role name -> (username, user role, branch). Deactivated and moved users start in branch A.
ACTOR_ACCOUNTS = {
    "branch_a": ("sz1", "branch", BRANCH_A),
    "branch_b": ("bj1", "branch", BRANCH_B),
    "branch_c": ("gz1", "branch", BRANCH_C),
    "hq": ("hq1", "hq", None),
    "finance": ("fin1", "finance", None),
    "auditor": ("aud1", "auditor", None),
    "deactivated": ("sz_gone", "branch", BRANCH_A),
    "moved": ("sz_moved", "branch", BRANCH_A),
}
# A closed month with a branch statement, for the statement and export routes.
CLOSED_PERIOD = "2026-08"
AUGUST_REVENUE = HEADER + "S1,A1,brokerage_commission,12.34,2026-08-05T10:00:00,app\n"


@dataclass
class Actor:
    """One caller: a bearer token for the API and a signed-in browser for the pages."""

    name: str
    username: str | None
    api_headers: dict[str, str]
    web: TestClient
    csrf: str = ""


@dataclass
class SecurityWorld:
    app: FastAPI
    api: TestClient  # carries no cookies: the API must authenticate by bearer token alone
    engine: Engine
    settings: Settings
    branches: dict[str, int]
    actors: dict[str, Actor]
    folder: Path
    leads: dict[str, int] = field(default_factory=dict)
    _counter: int = 0

    def unique(self, prefix: str) -> str:
        self._counter += 1
        return f"{prefix}{self._counter}"

    def new_lead(self, branch_code: str | None, *, status: str | None = None) -> int:
        """A fresh lead (assigned to `branch_code`, or in the pool) with its own mobile number."""
        label = self.unique("X")
        branch_id = self.branches[branch_code] if branch_code else None
        mobile = f"139{self._counter:08d}"
        lead_id = add_lead(
            self.engine, external_id=label, branch_id=branch_id, status=status, mobile=mobile
        )
        self.leads[label] = lead_id
        return lead_id

    def post_revenue(self, external_id: str, *, occurred_at: str = "2026-11-02T10:00:00") -> str:
        """One revenue event for the lead `external_id`, posted by the import service."""
        event_id = self.unique("EV")
        content = HEADER + f"{event_id},{external_id},product_fee,3.00,{occurred_at},app\n"
        path = write(self.folder, f"{event_id}.csv", content)
        with session_scope(self.engine) as session:
            ledger_service.import_revenue(session, path=path, actor="test")
        return event_id

    def lead_branch(self, lead_id: int) -> int | None:
        """Who owns the lead now, read straight from the table (the test's oracle)."""
        with self.engine.connect() as conn:
            row = conn.execute(text("SELECT branch_id FROM lead WHERE id = :id"), {"id": lead_id})
            found = row.first()
        return None if found is None else found[0]

    def owned_ids(self, branch_code: str) -> set[int]:
        with self.engine.connect() as conn:
            rows = conn.execute(
                text("SELECT id FROM lead WHERE branch_id = :b"), {"b": self.branches[branch_code]}
            )
            return {int(r[0]) for r in rows}

    def max_lead_id(self) -> int:
        with self.engine.connect() as conn:
            return int(conn.execute(text("SELECT COALESCE(MAX(id), 0) FROM lead")).scalar_one())


def api_token(client: TestClient, username: str) -> dict[str, str]:
    response = client.post("/api/v1/auth/token", data={"username": username, "password": PASSWORD})
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


def _signed_in_actor(app: FastAPI, name: str, username: str) -> Actor:
    browser = TestClient(app, follow_redirects=False)
    csrf = sign_in(browser, username)
    return Actor(name, username, api_token(browser, username), browser, csrf)


class _Actors(dict[str, Actor]):
    """Signs an actor in on first use: most tests need only a few of them."""

    def __init__(self, app: FastAPI) -> None:
        super().__init__()
        self._app = app

    def __missing__(self, name: str) -> Actor:
        if name == "anonymous":
            actor = Actor(name, None, {}, TestClient(self._app, follow_redirects=False))
        else:
            actor = _signed_in_actor(self._app, name, ACTOR_ACCOUNTS[name][0])
        self[name] = actor
        return actor


def _add_accounts(engine: Engine) -> None:
    with session_scope(engine) as session:
        for username, role, branch in ACTOR_ACCOUNTS.values():
            create_user(session, username=username, password=PASSWORD, role=role,
                        branch_code=branch, actor="test")  # fmt: skip


def _seed_ledger(world: SecurityWorld, tmp_path: Path) -> None:
    """A1 (branch A) and B1 (branch B) owned all year; August revenue posted and closed."""
    own_leads(world.engine, world.branches)
    with world.engine.connect() as conn:
        found = conn.execute(
            text("SELECT external_id, id FROM lead WHERE external_id IN ('A1', 'B1', 'C1')")
        )
        world.leads.update({str(label): int(lead_id) for label, lead_id in found})
    with session_scope(world.engine) as session:
        ledger_service.import_revenue(
            session, path=write(tmp_path, "august.csv", AUGUST_REVENUE), actor="test"
        )
    with session_scope(world.engine) as session:
        ledger_service.close_period(session, period=CLOSED_PERIOD, actor="test")


def _lose_access(engine: Engine) -> None:
    """After signing in: one account is deactivated, another moves from branch A to C."""
    with session_scope(engine) as session:
        deactivate_user(session, username=ACTOR_ACCOUNTS["deactivated"][0], actor="test")
        move_user(session, username=ACTOR_ACCOUNTS["moved"][0], branch_code=BRANCH_C, actor="test")


@pytest.fixture
def security_world(settings: Settings, tmp_path: Path) -> Iterator[SecurityWorld]:
    # Jobs stay queued: no worker runs beside the rows (a queued round job is enough to answer).
    settings = settings.model_copy(update={"job_workers_in_process": 0})
    app = create_app(settings)
    engine = app.state.engine
    load_branches(engine, tmp_path, SECURITY_BRANCHES_CSV)
    _add_accounts(engine)
    with session_scope(engine) as session:
        branches = {b.code: b.id for b in session.exec(select(Branch)) if b.id is not None}
    actors = _Actors(app)
    for name in ("deactivated", "moved"):  # signed in now, before they lose access
        actors[name] = _signed_in_actor(app, name, ACTOR_ACCOUNTS[name][0])
    api = TestClient(app, follow_redirects=False)
    world = SecurityWorld(app, api, engine, settings, branches, actors, tmp_path)
    _seed_ledger(world, tmp_path)
    _lose_access(engine)
    try:
        yield world
    finally:
        for client in (api, *(actor.web for actor in actors.values())):
            client.close()
        engine.dispose()


def transfer_via_api(world: SecurityWorld, lead_id: int, branch_code: str) -> None:
    """HQ moves a lead through the public API, as an operator would."""
    response = world.api.post(
        f"/api/v1/leads/{lead_id}/transfer",
        json={"branch_code": branch_code, "reason": "客户搬家"},
        headers=world.actors["hq"].api_headers,
    )
    assert response.status_code == 200, response.text

"""Bursts and parallel guesses: no 500, and every counted limit holds however many arrive at once.

Requests run in parallel threads against the ASGI app (one TestClient), on SQLite and
PostgreSQL. A sign-in takes one connection (its own session), the pool is as large as the
worker-thread limit, and "count within a window, then record" runs under a lock
(`db.lock_for_counting`), so the limits count exactly.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlalchemy.engine import Engine
from typer.testing import CliRunner

from app.cli import cli
from app.config import Settings, get_settings
from app.main import create_app
from tests.app.factories import PASSWORD, add_user, load_branches
from tests.web.helpers import add_lead

MAX_FAILURES = 10
REVEALS = 30
PROXY = "testclient"  # the TestClient's peer address, trusted as a proxy here


@dataclass
class World:
    client: TestClient
    engine: Engine
    settings: Settings
    lead_id: int

    def token(self, username: str, address: str = "10.0.0.1") -> dict[str, str]:
        response = self.sign_in(username, PASSWORD, address)
        assert response.status_code == 200, response.text
        return {"Authorization": f"Bearer {response.json()['access_token']}"}

    def sign_in(self, username: str, password: str, address: str = "10.0.0.1") -> object:
        form = {"username": username, "password": password}
        headers = {"X-Forwarded-For": address}
        return self.client.post("/api/v1/auth/token", data=form, headers=headers)

    def count_actions(self, action: str) -> int:
        with self.engine.connect() as conn:
            query = text("SELECT count(*) FROM audit_log WHERE action = :a")
            return int(conn.execute(query, {"a": action}).scalar_one())


@pytest.fixture
def world(settings: Settings, tmp_path: Path) -> Iterator[World]:
    tuned = settings.model_copy(
        update={
            "login_max_failures": MAX_FAILURES,
            "reveal_limit_per_hour": REVEALS,
            "trusted_proxies": PROXY,
        }
    )
    app = create_app(tuned)
    engine = app.state.engine
    load_branches(engine, tmp_path)
    add_user(engine, "sz1", "branch", "SZ-FT")
    with engine.connect() as conn:
        branch_id = conn.execute(text("SELECT id FROM branch WHERE code = 'SZ-FT'")).scalar_one()
    lead_id = add_lead(engine, external_id="L1", branch_id=int(branch_id))
    with TestClient(app, follow_redirects=False) as client:
        yield World(client, engine, tuned, lead_id)
    engine.dispose()


def in_parallel(calls: list[Callable[[], object]]) -> Counter[int]:
    with ThreadPoolExecutor(max_workers=len(calls)) as pool:
        responses = list(pool.map(lambda call: call(), calls))
    return Counter(r.status_code for r in responses)  # type: ignore[attr-defined]


def test_a_burst_of_sign_ins_lists_and_updates_gets_no_500(world: World) -> None:
    headers = world.token("sz1")
    url = f"/api/v1/leads/{world.lead_id}/contacted"
    calls: list[Callable[[], object]] = []
    for i in range(20):  # a failed sign-in used to hold one connection while taking a second
        calls.append(lambda i=i: world.sign_in("sz1", "wrong", f"10.1.0.{i}"))
        calls.append(lambda i=i: world.sign_in(f"nobody{i}", "wrong", f"10.2.0.{i}"))
        calls.append(lambda: world.client.get("/api/v1/leads", headers=headers))
        calls.append(lambda: world.client.post(url, headers=headers))
    statuses = in_parallel(calls)
    print(f"\nstatuses={dict(statuses)}")
    assert 500 not in statuses
    assert set(statuses) <= {200, 401, 409, 429, 503}
    assert world.client.get("/api/v1/leads", headers=headers).status_code == 200


def test_parallel_wrong_guesses_are_evaluated_at_most_the_limit(world: World) -> None:
    statuses = in_parallel([lambda: world.sign_in("sz1", "wrong")] * 25)
    print(f"\nstatuses={dict(statuses)}")
    # The rest are refused unevaluated: locked out (429), or shed as busy on a loaded machine
    # (503, nothing counted); never a 500.
    assert statuses[401] + statuses[429] + statuses[503] == 25
    assert 1 <= statuses[401] <= MAX_FAILURES  # evaluated: never more than the limit
    # Guessing on, one at a time, reaches the lockout after exactly the limit in all.
    evaluated = statuses[401]
    while (status := world.sign_in("sz1", "wrong").status_code) == 401:  # type: ignore[attr-defined]
        evaluated += 1
    assert status == 429
    assert evaluated == MAX_FAILURES
    assert world.count_actions("auth.login_failed") == MAX_FAILURES
    assert world.count_actions("auth.lockout_started") == 1  # one alert for HQ


def test_a_locked_out_attacker_address_does_not_lock_out_the_real_user(world: World) -> None:
    for _ in range(MAX_FAILURES):
        assert world.sign_in("sz1", "wrong", "203.0.113.9").status_code == 401  # type: ignore[attr-defined]
    locked = world.sign_in("sz1", PASSWORD, "203.0.113.9")
    assert locked.status_code == 429  # type: ignore[attr-defined]
    assert int(locked.headers["Retry-After"]) > 0  # type: ignore[attr-defined]
    assert world.sign_in("sz1", PASSWORD, "10.0.0.1").status_code == 200  # type: ignore[attr-defined]


def test_an_untrusted_peer_cannot_choose_its_address_with_x_forwarded_for(world: World) -> None:
    world.settings.trusted_proxies = ""
    for i in range(MAX_FAILURES):
        world.sign_in("sz1", "wrong", f"198.51.100.{i}")
    assert world.sign_in("sz1", PASSWORD, "10.0.0.1").status_code == 429  # type: ignore[attr-defined]


def test_hq_unlocks_an_account_from_the_command_line(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    for _ in range(MAX_FAILURES):
        world.sign_in("sz1", "wrong")
    assert world.sign_in("sz1", PASSWORD).status_code == 429  # type: ignore[attr-defined]
    monkeypatch.setenv("O2O_DATABASE_URL", world.settings.database_url)
    monkeypatch.setenv("O2O_SECRET_KEY", world.settings.secret_key)
    get_settings.cache_clear()
    result = CliRunner().invoke(cli, ["users", "unlock", "--username", "sz1"])
    get_settings.cache_clear()
    assert result.exit_code == 0, result.output
    assert world.count_actions("auth.unlocked") == 1
    assert world.sign_in("sz1", PASSWORD).status_code == 200  # type: ignore[attr-defined]


def test_parallel_reveals_never_exceed_the_hourly_limit(world: World) -> None:
    headers = world.token("sz1")
    url = f"/api/v1/leads/{world.lead_id}/reveal"
    statuses = in_parallel([lambda: world.client.post(url, headers=headers)] * 45)
    print(f"\nstatuses={dict(statuses)}")
    assert 500 not in statuses
    assert statuses[200] <= REVEALS
    assert world.count_actions("lead.reveal_mobile") <= REVEALS
    assert statuses[200] + statuses[429] + statuses[503] == 45
    refused = world.client.post(url, headers=headers)
    if statuses[200] == REVEALS:
        assert refused.status_code == 429
        assert refused.headers["Retry-After"] == "3600"

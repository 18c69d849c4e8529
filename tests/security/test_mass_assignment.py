"""Mass assignment: no client can write a field the server owns.

Every write endpoint (JSON API and page forms) gets its legitimate fields plus server-owned
ones (ids, branch, status, owners, timestamps, amounts, actor...). A JSON body must be refused
with 422 (request schemas forbid unknown fields); a form or an action without a body ignores
them. Either way the database is compared before and after: only the columns the action itself
sets may change, to the values the action sets.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlalchemy.engine import Engine

from app.jobs.runner import execute
from app.main import create_app
from tests.conftest import settings_for
from tests.security.conftest import BRANCH_A, BRANCH_B, BRANCH_C, SecurityWorld
from tests.web.finance_data import HEADER
from tests.web.helpers import csrf_of

# What an attacker would like to set. Values point somewhere the action would never go.
SERVER_OWNED: dict[str, Any] = {
    "id": 987654,
    "lead_id": 987654,
    "branch_id": 0,  # replaced by branch B's id
    "returned_by_branch_id": 0,
    "status": "converted",
    "customer_key": "f" * 64,
    "customer_id": 987654,
    "owner": "mallory",
    "owner_branch": BRANCH_B,
    "created_at": "2020-01-01T00:00:00+00:00",
    "updated_at": "2020-01-01T00:00:00+00:00",
    "assigned_at": "2020-01-01T00:00:00+00:00",
    "contacted_at": "2020-01-01T00:00:00+00:00",
    "round_id": 987654,
    "amount_fen": 987654,
    "imported_fen": 987654,
    "actor": "mallory",
    "created_by": "mallory",
    "committed_by": "mallory",
    "closed_by": "mallory",
    "role": "hq",
    "active": "true",
    "security_stamp": 0,
    "mobile": "13900000000",
    "external_id": "HACKED",
    "channel": "hacked",
    "tier": "hnw",
    "location_source": "hacked",
    "batch_id": 987654,
    "pool_size": 0,
}
LEAD_COLUMNS = (
    "id, channel, external_id, customer_id, name, mobile, tier, lat, lon, region_code, "
    "location_source, status, branch_id, returned_by_branch_id, return_reason, assigned_at, "
    "contacted_at, acquired_at, created_at, updated_at"
)


def extras(world: SecurityWorld, own: dict[str, Any]) -> dict[str, Any]:
    """Server-owned fields the endpoint does not legitimately take, aimed at branch B."""
    payload = {**SERVER_OWNED, "branch_id": world.branches[BRANCH_B]}
    payload["returned_by_branch_id"] = world.branches[BRANCH_B]
    return {name: value for name, value in payload.items() if name not in own}


def rows_of(
    engine: Engine, table: str, columns: str = "*", key: str = "id"
) -> dict[Any, dict[str, Any]]:
    with engine.connect() as conn:
        result = conn.execute(text(f"SELECT {columns} FROM {table}"))  # fixed names, no input
        return {row[key]: dict(row) for row in result.mappings()}


def changes(
    before: dict[Any, dict[str, Any]], after: dict[Any, dict[str, Any]]
) -> set[tuple[Any, str]]:
    """(row key, column) pairs that differ, plus ("+"/"-", key) for added and removed rows."""
    diff = {("+", key) for key in after.keys() - before.keys()}
    diff |= {("-", key) for key in before.keys() - after.keys()}
    for key in before.keys() & after.keys():
        diff |= {(key, name) for name in before[key] if before[key][name] != after[key][name]}
    return diff


def accounts(engine: Engine) -> dict[Any, dict[str, Any]]:
    return rows_of(engine, "app_user", "id, username, role, branch_id, active, security_stamp")


@dataclass
class LeadWrite:
    """One lead action, who sends it, what it legitimately carries and what it may change."""

    name: str
    path: str
    user: str
    own: dict[str, str]
    status: int
    may_change: set[str]
    expect: dict[str, Any] = field(default_factory=dict)  # column -> value; branch codes mapped

    @property
    def is_api(self) -> bool:
        return self.path.startswith("/api/")


FOLLOWUP_CHANGES = {"status", "updated_at"}
REASON = {"reason": "客户已移居外地"}
LEAD_WRITES = (
    LeadWrite("api contacted", "/api/v1/leads/{id}/contacted", "branch_a", {}, 200,
              FOLLOWUP_CHANGES | {"contacted_at"}, {"status": "contacted", "branch_id": BRANCH_A}),
    LeadWrite("api converted", "/api/v1/leads/{id}/converted", "branch_a", {}, 200,
              FOLLOWUP_CHANGES, {"status": "converted", "branch_id": BRANCH_A}),
    LeadWrite("api return", "/api/v1/leads/{id}/return", "branch_a", REASON, 422, set()),
    LeadWrite("api transfer", "/api/v1/leads/{id}/transfer", "hq",
              {**REASON, "branch_code": BRANCH_C}, 422, set()),
    LeadWrite("api reveal", "/api/v1/leads/{id}/reveal", "branch_a", {}, 200, set()),
    LeadWrite("form contacted", "/leads/{id}/contacted", "branch_a", {"back": ""}, 303,
              FOLLOWUP_CHANGES | {"contacted_at"}, {"status": "contacted", "branch_id": BRANCH_A}),
    LeadWrite("form converted", "/leads/{id}/converted", "branch_a", {}, 303,
              FOLLOWUP_CHANGES, {"status": "converted", "branch_id": BRANCH_A}),
    LeadWrite("form return", "/leads/{id}/return", "branch_a", REASON, 303,
              FOLLOWUP_CHANGES | {"branch_id", "returned_by_branch_id", "return_reason"},
              {"status": "returned", "branch_id": None, "returned_by_branch_id": BRANCH_A,
               "return_reason": REASON["reason"]}),
    LeadWrite("form transfer", "/leads/{id}/transfer", "hq", {**REASON, "branch_code": BRANCH_C},
              303, FOLLOWUP_CHANGES | {"branch_id", "assigned_at"},
              {"status": "assigned", "branch_id": BRANCH_C}),
    LeadWrite("form reveal", "/leads/{id}/reveal", "branch_a", {}, 200, set()),
)  # fmt: skip


def _send_lead_write(world: SecurityWorld, write: LeadWrite, lead_id: int) -> httpx.Response:
    actor = world.actors[write.user]
    url = write.path.format(id=lead_id)
    body = {**write.own, **extras(world, write.own)}
    if write.is_api:
        return world.api.post(url, json=body, headers=actor.api_headers)
    return actor.web.post(url, data={**body, "csrf_token": actor.csrf})


def _expected_value(world: SecurityWorld, column: str, value: Any) -> Any:
    is_branch = column.endswith("branch_id") and value is not None
    return world.branches[value] if is_branch else value


OWNERSHIP_COLUMNS = "id, lead_id, customer_id, branch_id, valid_from, opened_by, round_id"


def _check_new_intervals(
    world: SecurityWorld, before: dict[Any, dict[str, Any]], lead_id: int, branch_id: int | None
) -> None:
    """Ownership opened by a write is the lead's, with its new branch; nothing else moves."""
    after = rows_of(world.engine, "ownership", OWNERSHIP_COLUMNS)
    assert all(after[key] == row for key, row in before.items())
    for key in after.keys() - before.keys():
        assert (after[key]["lead_id"], after[key]["branch_id"]) == (lead_id, branch_id)


def test_lead_writes_refuse_or_ignore_server_owned_fields(security_world: SecurityWorld) -> None:
    world = security_world
    users_before = accounts(world.engine)
    for write in LEAD_WRITES:
        lead_id = world.new_lead(BRANCH_A)
        before = rows_of(world.engine, "lead", LEAD_COLUMNS)
        intervals_before = rows_of(world.engine, "ownership", OWNERSHIP_COLUMNS)
        response = _send_lead_write(world, write, lead_id)
        assert response.status_code == write.status, (write.name, response.text[:300])
        after = rows_of(world.engine, "lead", LEAD_COLUMNS)
        changed = changes(before, after)
        allowed = {(lead_id, column) for column in write.may_change}
        assert changed <= allowed, f"{write.name} changed {sorted(changed - allowed, key=str)}"
        for column, value in write.expect.items():
            assert after[lead_id][column] == _expected_value(world, column, value), write.name
        _check_new_intervals(world, intervals_before, lead_id, after[lead_id]["branch_id"])
    assert accounts(world.engine) == users_before
    _report(len(LEAD_WRITES))


def test_round_ledger_and_sign_in_writes_ignore_server_owned_fields(
    security_world: SecurityWorld,
) -> None:
    _check_round_writes(security_world)
    _check_ledger_writes(security_world)
    _check_sign_in(security_world)
    _report(len(ROUND_ENDINGS) + 2 + 4 + 2)  # round writes, ledger writes, sign-ins


# How a preview ends, through which door, and the status it must end in.
ROUND_ENDINGS = (
    ("/api/v1/rounds/{id}/commit", "committed"),
    ("/hq/rounds/{id}/commit", "committed"),
    ("/api/v1/rounds/{id}/cancel", "cancelled"),
    ("/hq/rounds/{id}/cancel", "cancelled"),
)


def _check_round_writes(world: SecurityWorld) -> None:
    hq = world.actors["hq"]
    world.new_lead(None)
    before = rows_of(world.engine, "allocation_round", "id, status")
    body = {"balance_weight": 0, "commit": False, **extras(world, {})}
    refused = world.api.post("/api/v1/rounds", json=body, headers=hq.api_headers)
    assert refused.status_code == 422, refused.text
    assert rows_of(world.engine, "allocation_round", "id, status") == before
    for path, status in ROUND_ENDINGS:
        world.new_lead(None)  # a pool that changed since the last commit
        form = {"mode": "preview", "balance_weight": "0", "csrf_token": hq.csrf}
        started = hq.web.post("/hq/rounds", data={**form, **extras(world, {})})
        assert started.status_code == 303, started.text
        round_id = _round_of_job(world, started.headers["location"])
        assert round_id != SERVER_OWNED["id"]
        _assert_round(world, round_id, status="solved", created_by="hq1", committed_by=None)
        url = path.format(id=round_id)
        if url.startswith("/api/"):
            ended = world.api.post(url, json=extras(world, {}), headers=hq.api_headers)
        else:
            ended = hq.web.post(url, data={"csrf_token": hq.csrf, **extras(world, {})})
            if url.endswith("/commit"):  # queued as a job: run it here
                execute(world.engine, world.settings, _job_of(ended.headers["location"]))
        assert ended.status_code == (200 if url.startswith("/api/") else 303), ended.text
        committer = "hq1" if status == "committed" else None
        _assert_round(world, round_id, status=status, created_by="hq1", committed_by=committer)


def _job_of(location: str) -> int:
    return int(location.split("/")[3].split("?")[0])


def _round_of_job(world: SecurityWorld, job_location: str) -> int:
    """The page queued a job: run it here (no worker in this world) and follow it to its round."""
    job_id = _job_of(job_location)
    assert job_id != SERVER_OWNED["id"]
    execute(world.engine, world.settings, job_id)
    job = rows_of(world.engine, "job", "id, status, requested_by")[job_id]
    assert (job["status"], job["requested_by"]) == ("succeeded", "hq1")
    followed = world.actors["hq"].web.get(job_location, follow_redirects=False)
    return int(followed.headers["location"].split("/")[3].split("?")[0])


def _assert_round(world: SecurityWorld, round_id: int, **expected: Any) -> None:
    columns = "id, status, created_by, committed_by, pool_size"
    found = rows_of(world.engine, "allocation_round", columns)[round_id]
    assert {name: found[name] for name in expected} == expected
    assert found["pool_size"] != SERVER_OWNED["pool_size"]


def _revenue_upload(event_id: str) -> dict[str, Any]:
    content = HEADER + f"{event_id},A1,brokerage_commission,2.50,2026-11-03T10:00:00,app\n"
    return {"file": ("revenue.csv", content.encode(), "text/csv")}


def _event_postings(engine: Engine, event_id: str) -> dict[str, int]:
    query = text(
        "SELECT p.account, p.amount FROM ledger_posting p "
        "JOIN ledger_entry e ON e.id = p.entry_id WHERE e.event_id = :event AND p.unit = 'CNY'"
    )
    with engine.connect() as conn:
        return {str(a): int(n) for a, n in conn.execute(query, {"event": event_id})}


def _check_ledger_writes(world: SecurityWorld) -> None:
    finance = world.actors["finance"]
    sneaky = {k: str(v) for k, v in extras(world, {}).items()}
    batches_before = rows_of(world.engine, "revenue_batch", "id, actor, imported_fen")
    api = world.api.post(
        "/api/v1/ledger/revenue-imports",
        files=_revenue_upload("M1"),
        data=sneaky,
        headers=finance.api_headers,
    )
    assert api.status_code == 200, api.text
    page = finance.web.post(
        "/finance/imports", files=_revenue_upload("M2"), data={**sneaky, "csrf_token": finance.csrf}
    )
    assert page.status_code == 200, page.text
    batches = rows_of(world.engine, "revenue_batch", "id, actor, imported_fen")
    new = [(b["actor"], b["imported_fen"]) for k, b in batches.items() if k not in batches_before]
    assert new == [("fin1", 250), ("fin1", 250)]
    assert SERVER_OWNED["batch_id"] not in batches
    for event in ("M1", "M2"):
        # Credited to the lead's owner (A) in fen from the file, never to B or a sent amount.
        assert _event_postings(world.engine, event)[f"branch:{BRANCH_A}:revenue"] == -250
    closed = world.api.post(
        "/api/v1/ledger/periods/2026-09/close", json=sneaky, headers=finance.api_headers
    )
    assert closed.status_code == 200, closed.text
    form = {"period": "2026-10", "confirm": "yes", "csrf_token": finance.csrf, **sneaky}
    assert finance.web.post("/finance/close", data=form).status_code == 303
    periods = rows_of(world.engine, "ledger_closed_period", "period, closed_by", key="period")
    assert {p: row["closed_by"] for p, row in periods.items()} == {
        "2026-08": "test",
        "2026-09": "fin1",
        "2026-10": "fin1",
    }


def _check_sign_in(world: SecurityWorld) -> None:
    """Signing in cannot choose a role or a branch."""
    claims = {"role": "hq", "branch_id": str(world.branches[BRANCH_B]), "scope": "hq finance"}
    token = world.api.post(
        "/api/v1/auth/token",
        data={"username": "sz1", "password": "correct horse battery", **claims},
    )
    assert token.status_code == 200, token.text
    headers = {"Authorization": f"Bearer {token.json()['access_token']}"}
    assert world.api.get("/api/v1/rounds", headers=headers).status_code == 403
    listed = world.api.get("/api/v1/leads", headers=headers).json()["items"]
    assert {item["branch_code"] for item in listed} <= {BRANCH_A}
    browser = TestClient(world.app, follow_redirects=False)
    login = {"username": "sz1", "password": "correct horse battery", **claims}
    login["csrf_token"] = csrf_of(browser.get("/login").text)
    assert browser.post("/login", data=login).status_code == 303
    assert browser.get("/hq/branches").status_code == 403


def _report(writes: int) -> None:
    """Reached only when every write above left the server-owned columns alone."""
    print(
        f"metric=server_owned_fields_persisted value=0 threshold=0 "
        f"(writes={writes} x fields={len(SERVER_OWNED)})"
    )


def test_every_json_request_body_forbids_unknown_fields(tmp_path: Path) -> None:
    """So a new endpoint cannot quietly accept (and maybe apply) a field it does not declare."""
    app = create_app(settings_for(f"sqlite:///{tmp_path}/unused.db"))
    schema = app.openapi()
    app.state.engine.dispose()
    components = schema.get("components", {}).get("schemas", {})
    open_bodies = []
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            content = operation.get("requestBody", {}).get("content", {})
            ref = content.get("application/json", {}).get("schema", {}).get("$ref")
            if ref is None:
                continue
            body = components[ref.rsplit("/", 1)[1]]
            if body.get("additionalProperties") is not False:
                open_bodies.append(f"{method.upper()} {path} ({ref.rsplit('/', 1)[1]})")
    assert not open_bodies, f"JSON bodies that accept unknown fields: {open_bodies}"

"""The authorization matrix (authz_matrix.py) run against the real app on both databases.

Every row is sent as every role through the real sign-in paths (bearer token for /api, session
cookie and CSRF token for pages), and the answer must be the status the matrix names.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
from fastapi.routing import iter_route_contexts
from fastapi.testclient import TestClient
from sqlalchemy import func, text, update
from sqlmodel import col, select
from starlette.routing import Mount

from app.branches.service import create_branch
from app.clock import utcnow
from app.db import session_scope
from app.journal import approvals
from app.main import create_app
from app.notifications.service import notify_assigned
from app.rounds.service import RoundParams, run_round
from app.tables import CorrectionRequestRow, Job, Notification, NotificationOutbox
from tests.app.factories import PASSWORD
from tests.conftest import settings_for
from tests.security.authz_matrix import LOGIN, ROLES, Expected, Row, rows
from tests.security.conftest import (
    BRANCH_A,
    BRANCH_B,
    CLOSED_PERIOD,
    Actor,
    SecurityWorld,
)
from tests.web.finance_data import HEADER
from tests.web.helpers import csrf_of

# HEAD is answered wherever GET is; it needs no row of its own.
IMPLIED_METHODS = {"HEAD"}
STATIC_FILES = {
    "/static/{path}": "app.css",
    "/static/vendor/{path}": "missing.js",
    "/docs/assets/{path}": "swagger-ui.css",
}


def app_routes() -> set[tuple[str, str]]:
    """Every (method, path) the application serves, walked from the app itself."""
    app = create_app(settings_for("sqlite:///unused-by-this-test.db"))
    found: set[tuple[str, str]] = set()
    for context in iter_route_contexts(app.routes):
        if isinstance(context.original_route, Mount):
            found.add(("GET", f"{context.path}/{{path}}"))
            continue
        for method in (context.methods or set()) - IMPLIED_METHODS:
            assert context.path is not None
            found.add((method, context.path))
    app.state.engine.dispose()
    return found


def test_every_route_has_a_row_and_every_row_a_route() -> None:
    served = app_routes()
    listed = [row.key for row in rows()]
    assert len(listed) == len(set(listed)), "a route is listed twice in authz_matrix.py"
    missing = sorted(served - set(listed))
    stale = sorted(set(listed) - served)
    assert not missing, f"routes without a row in tests/security/authz_matrix.py: {missing}"
    assert not stale, f"rows in tests/security/authz_matrix.py for routes that are gone: {stale}"
    assert all(set(row.expect) == set(ROLES) for row in rows())


@dataclass
class Call:
    """What one row sends: the URL with its ids filled in, and the body."""

    url: str
    json: dict[str, Any] | None = None
    data: dict[str, Any] = field(default_factory=dict)
    files: dict[str, Any] | None = None
    client: TestClient | None = None  # a separate browser, so the actor's own session survives


Recipe = Callable[[SecurityWorld, Row, Actor, dict[str, Any]], Call]


def _plain(world: SecurityWorld, row: Row, actor: Actor, cache: dict[str, Any]) -> Call:
    return Call(row.path)


def _form(world: SecurityWorld, row: Row, actor: Actor, cache: dict[str, Any]) -> Call:
    # Signing out must not end the actor's session for the rows that follow.
    return Call(row.path, client=TestClient(world.app, cookies=actor.web.cookies))


def _lead_a(world: SecurityWorld, row: Row, actor: Actor, cache: dict[str, Any]) -> Call:
    return Call(row.path.format(lead_id=world.leads["A1"]))


# The body of each lead action that takes one (the same fields by JSON and by form).
LEAD_ACTION_BODIES = {
    "return": {"reason": "客户已有客户经理"},
    "transfer": {"reason": "客户搬家", "branch_code": BRANCH_B},
}


def _fresh_lead_a(world: SecurityWorld, row: Row, actor: Actor, cache: dict[str, Any]) -> Call:
    """A new lead of branch A for every role, so no answer depends on an earlier one."""
    lead_id = world.new_lead(BRANCH_A)
    body = LEAD_ACTION_BODIES.get(row.path.rsplit("/", 1)[1])
    return Call(row.path.format(lead_id=lead_id), json=body, data=body or {})


def _fresh_notice_a(world: SecurityWorld, row: Row, actor: Actor, cache: dict[str, Any]) -> Call:
    """A new unread notification of branch A for every role."""
    with session_scope(world.engine) as session:
        notify_assigned(session, world.branches[BRANCH_A], [world.leads["A1"]])
        latest = session.exec(select(func.max(Notification.id))).one()
    return Call(row.path.format(notification_id=latest))


def _fresh_dead_letter(world: SecurityWorld, row: Row, actor: Actor, cache: dict[str, Any]) -> Call:
    """A new delivery that gave up, for HQ to retry."""
    with session_scope(world.engine) as session:
        notify_assigned(session, world.branches[BRANCH_A], [world.leads["A1"]])
        latest = session.exec(select(func.max(NotificationOutbox.id))).one()
        session.execute(update(NotificationOutbox).where(
            col(NotificationOutbox.id) == latest).values(status="dead"))  # fmt: skip
    return Call(row.path.format(delivery_id=latest))


def _new_round(world: SecurityWorld, row: Row, actor: Actor, cache: dict[str, Any]) -> Call:
    world.new_lead(None)  # something in the pool to solve
    return Call(row.path, json={"balance_weight": 0, "commit": False}, data={"mode": "preview"})


def _round_preview(world: SecurityWorld, row: Row, actor: Actor, cache: dict[str, Any]) -> Call:
    """One fresh preview per row. Only HQ may change it; the roles after HQ are refused before
    the round is looked up, and a wrongly admitted one would answer 409, not the 403 expected."""
    if "round_id" not in cache:
        with session_scope(world.engine) as session:  # a round job queued by an earlier row
            session.execute(text("UPDATE job SET status = 'cancelled' WHERE status = 'queued'"))
        world.new_lead(None)
        cache["round_id"] = run_round(
            world.engine, settings=world.settings, actor="test", params=RoundParams(), commit=False
        )
    return Call(row.path.format(round_id=cache["round_id"]))


def _queued_job(world: SecurityWorld, row: Row, actor: Actor, cache: dict[str, Any]) -> Call:
    """One queued job per row (outside any lane, so rows never wait for each other)."""
    if "job_id" not in cache:
        with session_scope(world.engine) as session:
            job = Job(kind="round", params="{}", requested_by="test")
            session.add(job)
            session.flush()
            cache["job_id"] = job.id
    return Call(row.path.format(job_id=cache["job_id"]))


def _revenue_file(world: SecurityWorld, row: Row, actor: Actor, cache: dict[str, Any]) -> Call:
    event = world.unique("R")
    content = HEADER + f"{event},A1,brokerage_commission,1.00,2026-11-02T10:00:00,app\n"
    return Call(row.path, files={"file": ("revenue.csv", content.encode(), "text/csv")})


def _lead_file(world: SecurityWorld, row: Row, actor: Actor, cache: dict[str, Any]) -> Call:
    content = f"external_id,channel,name\n{world.unique('F')},app,张三\n".encode("gbk")
    return Call(row.path, files={"file": ("leads.csv", content, "text/csv")})


def _branch_file(world: SecurityWorld, row: Row, actor: Actor, cache: dict[str, Any]) -> Call:
    """A new, inactive branch: it takes no lead from the rows that run rounds."""
    code = world.unique("NEW")
    content = f"code,name,lat,lon,capacity,active\n{code},新营业部,30.2,120.1,5,false\n"
    return Call(row.path, files={"file": ("branches.csv", content.encode(), "text/csv")})


def _next_period(world: SecurityWorld, row: Row, actor: Actor, cache: dict[str, Any]) -> Call:
    """The month after the latest closed one: finance can close it, nobody else may."""
    with world.engine.connect() as conn:
        latest = conn.exec_driver_sql("SELECT MAX(period) FROM ledger_closed_period").scalar_one()
    year, month = (int(part) for part in str(latest).split("-"))
    period = f"{year + month // 12}-{month % 12 + 1:02d}"
    return Call(row.path.format(period=period), data={"period": period, "confirm": "yes"})


def _closed_period_query(
    world: SecurityWorld, row: Row, actor: Actor, cache: dict[str, Any]
) -> Call:
    return Call(f"{row.path}?period={CLOSED_PERIOD}&format=csv")


def _statement_a(world: SecurityWorld, row: Row, actor: Actor, cache: dict[str, Any]) -> Call:
    return Call(row.path.format(period=CLOSED_PERIOD, branch_code=BRANCH_A))


def _static_file(world: SecurityWorld, row: Row, actor: Actor, cache: dict[str, Any]) -> Call:
    return Call(row.path.format(path=STATIC_FILES[row.path]))


def _new_policy(world: SecurityWorld, row: Row, actor: Actor, cache: dict[str, Any]) -> Call:
    body = {"policy_id": world.unique("P"), "revenue_type": "product_fee",
            "valid_from": "2026-12-01T00:00:00", "branch_bps": 8000, "hq_online_bps": 2000,
            "reason": "总部线上分成"}  # fmt: skip
    return Call(row.path, json=body)


def _fresh_entry(world: SecurityWorld, row: Row, actor: Actor, cache: dict[str, Any]) -> Call:
    """A new revenue entry of branch A's lead, to be reversed."""
    event_id = world.post_revenue("A1")
    with world.engine.connect() as conn:
        query = "SELECT MIN(id) FROM ledger_entry WHERE event_id = :e"
        entry_id = conn.execute(text(query), {"e": event_id}).scalar_one()
    return Call(row.path.format(entry_id=entry_id), json={"reason": "重复入账"})


def _suspense_event(world: SecurityWorld, row: Row, actor: Actor, cache: dict[str, Any]) -> Call:
    """Revenue of a lead nobody owned (in suspense), to be reclassified to branch A."""
    event_id = world.post_revenue("C1")
    body = {"branch_code": BRANCH_A, "reason": "补录归属"}
    form = {"event": event_id, "branch": BRANCH_A, "reason": "补录归属"}  # the workbench's form
    return Call(row.path.format(event_id=event_id), json=body, data=form)


def _pending_correction(
    world: SecurityWorld, row: Row, actor: Actor, cache: dict[str, Any]
) -> Call:
    """A suspense reclassification another finance user asked for, waiting for approval."""
    event_id = world.post_revenue("C1")
    asked = approvals.Correction(kind=approvals.RECLASSIFY, target=event_id, reason="补录归属",
                                 branch_code=BRANCH_A)  # fmt: skip
    with session_scope(world.engine) as session:
        request = approvals.ask(session, correction=asked, actor="fin-other", now=utcnow(),
                                above_fen=0)  # fmt: skip
    assert isinstance(request, CorrectionRequestRow)  # above 0 fen every correction waits
    return Call(row.path.format(request_id=request.id), json={})


def _fresh_branch(world: SecurityWorld, row: Row, actor: Actor, cache: dict[str, Any]) -> Call:
    """A new branch of its own, so that deactivating it changes nothing another row uses."""
    code = world.unique("BR")
    fields = {"code": code, "name": "测试营业部", "lat": "23.1", "lon": "113.3", "capacity": "5"}
    with session_scope(world.engine) as session:
        create_branch(session, fields=fields, actor="test")
    return Call(row.path.format(code=code), data={"capacity": "6"})


def _intake_batch(world: SecurityWorld, row: Row, actor: Actor, cache: dict[str, Any]) -> Call:
    """A valid batch sent with staff credentials only: channel keys are not staff tokens."""
    return Call(row.path, json={"leads": [{"external_id": world.unique("W")}]})


def _routing_on(world: SecurityWorld, row: Row, actor: Actor, cache: dict[str, Any]) -> Call:
    """Switch routing on (as it is): HQ's answer changes nothing the other rows see."""
    return Call(row.path, json={"enabled": True})


def _own_login(world: SecurityWorld, row: Row, actor: Actor, cache: dict[str, Any]) -> Call:
    """Each role signs in with its own account; anonymous with an account that does not exist."""
    browser = TestClient(world.app, follow_redirects=False)
    credentials = {"username": actor.username or "nobody-here", "password": PASSWORD}
    if not row.is_api:
        credentials["csrf_token"] = csrf_of(browser.get("/login").text)
    return Call(row.path, data=credentials, client=browser)


RECIPES: dict[str, Recipe] = {
    "plain": _plain,
    "form": _form,
    "lead_a": _lead_a,
    "fresh_lead_a": _fresh_lead_a,
    "new_round": _new_round,
    "round_preview": _round_preview,
    "queued_job": _queued_job,
    "revenue_file": _revenue_file,
    "lead_file": _lead_file,
    "branch_file": _branch_file,
    "next_period": _next_period,
    "closed_period_query": _closed_period_query,
    "statement_a": _statement_a,
    "static_file": _static_file,
    "own_login": _own_login,
    "new_policy": _new_policy,
    "fresh_entry": _fresh_entry,
    "suspense_event": _suspense_event,
    "pending_correction": _pending_correction,
    "fresh_branch": _fresh_branch,
    "intake_batch": _intake_batch,
    "fresh_notice_a": _fresh_notice_a,
    "fresh_dead_letter": _fresh_dead_letter,
    "routing_on": _routing_on,
}


def send(world: SecurityWorld, row: Row, actor: Actor, call: Call) -> httpx.Response:
    """API rows go with the actor's bearer token only; page rows with its cookie and CSRF."""
    if row.is_api:
        client = call.client or world.api
        headers = actor.api_headers
        if row.method == "GET":
            return client.get(call.url, headers=headers)
        if call.files or row.recipe == "own_login":
            return client.post(call.url, headers=headers, data=call.data, files=call.files)
        return client.post(call.url, headers=headers, json=call.json)
    client = call.client or actor.web
    if row.method == "GET":
        return client.get(call.url, follow_redirects=False)
    data = dict(call.data)
    data.setdefault("csrf_token", actor.csrf)
    return client.post(call.url, data=data, files=call.files, follow_redirects=False)


def answered(response: httpx.Response, expected: Expected) -> bool:
    to_login = response.status_code == 303 and response.headers.get("location", "").startswith(
        "/login?next="
    )
    if expected == LOGIN:
        return to_login
    return response.status_code == expected and not (expected == 303 and to_login)


def run_rows(world: SecurityWorld, selected: list[Row]) -> list[str]:
    failures: list[str] = []
    for row in selected:
        cache: dict[str, Any] = {}
        for role in ROLES:
            actor = world.actors[role]
            call = RECIPES[row.recipe](world, row, actor, cache)
            response = send(world, row, actor, call)
            if not answered(response, row.expect[role]):
                got = f"{response.status_code} {response.headers.get('location', '')}".strip()
                failures.append(
                    f"{row.method} {row.path} as {role}: {got}, want {row.expect[role]}"
                )
            assert response.status_code < 500, (row.key, role, response.text[:300])
    return failures


def test_every_row_answers_as_the_matrix_says(security_world: SecurityWorld) -> None:
    # Signing out ends every session of the actor, so that row goes last.
    selected = sorted(rows(), key=lambda row: row.path == "/logout")
    failures = run_rows(security_world, selected)
    checked = len(selected) * len(ROLES)
    print(f"metric=authz_rows_checked value={checked} threshold=all routes ({len(selected)} rows)")
    print(f"metric=authz_mismatches value={len(failures)} threshold=0")
    assert not failures, "\n".join(failures)


def test_every_row_names_a_known_recipe() -> None:
    """Every recipe a row names exists, so a typo cannot silently skip a row."""
    assert {row.recipe for row in rows()} <= set(RECIPES)

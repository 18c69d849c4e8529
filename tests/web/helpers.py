"""Seeding leads and signing in through the real forms, shared by page and browser tests."""

from __future__ import annotations

import re
from datetime import timedelta

from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine

from app.db import session_scope
from app.jobs.runner import execute
from app.leads.customers import solo_customer
from app.tables import Lead
from app.tables.base import utcnow
from tests.app.factories import PASSWORD

CSRF_INPUT = re.compile(r'name="csrf_token" value="([^"]+)"')


def add_lead(
    engine: Engine,
    *,
    external_id: str,
    branch_id: int | None,
    name: str = "张伟",
    status: str | None = None,
    hours_ago: float = 5,
    mobile: str = "13812345678",
    channel: str = "app",
    located: bool = True,
) -> int:
    """A lead as a committed round leaves it: assigned to the branch `hours_ago` hours ago."""
    with session_scope(engine) as session:
        lead = Lead(
            channel=channel, external_id=external_id, name=name, mobile=mobile,
            customer_id=solo_customer(session, channel=channel, external_id=external_id),
            branch_id=branch_id, status=status or ("assigned" if branch_id else "new"),
            lat=22.55 if located else None, lon=114.06 if located else None,
            location_source="coordinates" if located else None, tier="mass",
            assigned_at=utcnow() - timedelta(hours=hours_ago) if branch_id else None,
            acquired_at=utcnow() - timedelta(days=2),
        )  # fmt: skip
        session.add(lead)
        session.flush()
        assert lead.id is not None
        return lead.id


def csrf_of(html: str) -> str:
    match = CSRF_INPUT.search(html)
    assert match, "no CSRF field on the page"
    return match.group(1)


def sign_in(client: TestClient, username: str, password: str = PASSWORD) -> str:
    """Sign in through the login form; returns the session's CSRF token for later forms."""
    page = client.get("/login")
    response = client.post(
        "/login",
        data={"username": username, "password": password, "csrf_token": csrf_of(page.text)},
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text
    return csrf_of(client.get("/").text)


def run_job_here(web: TestClient, job_id: int) -> None:
    """Run a queued job in the test's thread with the worker's own code (the page tests' app
    runs no worker: O2O_JOB_WORKERS_IN_PROCESS=0), so a page test waits for nothing."""
    execute(web.app.state.engine, web.app.state.settings, job_id)  # type: ignore[attr-defined]

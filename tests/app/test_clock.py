"""The product reads time from one clock (app.clock): tokens, cookies and periods follow it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from fastapi.testclient import TestClient

from app import clock
from app.tables.base import utcnow
from tests.app.factories import login
from tests.web.helpers import sign_in

NOVEMBER = datetime(2026, 11, 18, 2, 0, tzinfo=UTC)


def test_the_suite_runs_at_the_pinned_instant_whatever_the_wall_clock_says() -> None:
    assert NOVEMBER <= utcnow() < NOVEMBER + timedelta(minutes=10)


def test_a_pinned_clock_advances_in_real_time_and_a_frozen_one_only_when_told() -> None:
    with clock.frozen_at(NOVEMBER) as frozen:
        assert utcnow() == NOVEMBER
        frozen.advance(timedelta(hours=2))
        assert utcnow() == NOVEMBER + timedelta(hours=2)
    later = datetime(2031, 1, 1, tzinfo=UTC)
    with clock.pinned_at(later):
        first = utcnow()
        assert later <= first <= utcnow() < later + timedelta(minutes=1)


def test_an_access_token_expires_by_the_product_clock(
    client: TestClient, branch_ids: dict[str, int]
) -> None:
    with clock.frozen_at(NOVEMBER) as frozen:
        headers = login(client, "hq1")
        frozen.advance(timedelta(minutes=59))
        assert client.get("/api/v1/leads", headers=headers).status_code == 200
        frozen.advance(timedelta(minutes=2))
        assert client.get("/api/v1/leads", headers=headers).status_code == 401


def test_a_web_session_cookie_ages_by_the_product_clock(
    client: TestClient, branch_ids: dict[str, int]
) -> None:
    with clock.frozen_at(NOVEMBER) as frozen:
        sign_in(client, "hq1")
        frozen.advance(timedelta(hours=7, minutes=59))
        assert client.get("/hq/branches", follow_redirects=False).status_code == 200
        frozen.advance(timedelta(minutes=2))
        assert client.get("/hq/branches", follow_redirects=False).status_code == 303

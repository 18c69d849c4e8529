"""The follow-up funnel counts each stage by cohort week and key, on both databases."""

from __future__ import annotations

from datetime import date

import pytest
from fastapi.testclient import TestClient
from httpx import Response
from sqlalchemy.engine import Engine

from app.analytics.funnel import Funnel, FunnelQuery, Stages, default_query, funnel
from app.auth import Principal
from app.db import session_scope
from app.errors import InvalidInput
from tests.app.factories import login
from tests.app.funnel_world import CUTOFF, HQ, add_funnel_lead


def _run(engine: Engine, principal: Principal = HQ, by: str = "channel") -> Funnel:
    query = FunnelQuery(by=by, start=date(2026, 11, 9), end=date(2026, 11, 22))
    with session_scope(engine) as session:
        return funnel(session, principal=principal, query=query, overdue_before=CUTOFF)


def test_each_stage_counts_the_leads_that_reached_it(
    engine: Engine, funnel_world: dict[str, int]
) -> None:
    app_leads = dict(_run(engine).by_key)["app"]
    assert (app_leads.acquired, app_leads.assigned, app_leads.contacted, app_leads.converted) == (
        4, 3, 2, 1,
    )  # fmt: skip
    assert app_leads.revenue_fen == 12050
    assert app_leads.overdue == 1
    assert app_leads.timed_contacts == 2
    assert app_leads.mean_hours_to_contact == pytest.approx(16.0)  # (2 h + 30 h) / 2
    assert app_leads.contacted_within_day == 1


def test_leads_fall_in_the_shanghai_week_they_were_acquired(
    engine: Engine, funnel_world: dict[str, int]
) -> None:
    result = _run(engine)
    assert [(c.week, c.key, c.stages.acquired) for c in result.cells] == [
        ("2026-11-09", "app", 4),
        ("2026-11-09", "wechat", 1),
        ("2026-11-16", "wechat", 1),
    ]  # the lead acquired one minute before Monday 00:00 Shanghai is outside the range
    assert result.total.acquired == 6
    assert result.total.revenue_fen == 12775
    assert dict(result.by_week)["2026-11-16"].acquired == 1


def test_by_branch_keeps_the_pool_as_its_own_row(
    engine: Engine, funnel_world: dict[str, int]
) -> None:
    rows = dict(_run(engine, by="branch").by_key)
    assert rows["SZ-FT"].acquired == 3
    assert rows["BJ-CY"].acquired == 2
    assert rows[None].acquired == 1
    assert rows[None].assigned == 0


def test_a_branch_sees_only_the_leads_it_owns(engine: Engine, funnel_world: dict[str, int]) -> None:
    branch = Principal(user_id=9, username="bj1", role="branch", branch_id=funnel_world["BJ-CY"],
                       branch_code="BJ-CY")  # fmt: skip
    result = _run(engine, principal=branch, by="tier")
    assert result.total.acquired == 2
    assert dict(result.by_key)["hnw"].converted == 1
    assert result.total.revenue_fen == 725


def test_conversion_comes_with_a_95_percent_interval() -> None:
    stages = Stages(assigned=3, converted=1)
    assert stages.conversion == pytest.approx(1 / 3)
    low, high = stages.conversion_interval or (0, 0)
    assert low == pytest.approx(0.0615, abs=1e-4)
    assert high == pytest.approx(0.7923, abs=1e-4)
    assert Stages().conversion is None
    assert Stages().conversion_interval is None


def test_a_bad_query_names_what_is_wrong() -> None:
    with pytest.raises(InvalidInput, match="by: must be one of"):
        FunnelQuery(by="city", start=date(2026, 1, 1), end=date(2026, 1, 2))
    with pytest.raises(InvalidInput, match="before from"):
        FunnelQuery(by="tier", start=date(2026, 1, 2), end=date(2026, 1, 1))
    with pytest.raises(InvalidInput, match="at most 366 days"):
        FunnelQuery(by="tier", start=date(2025, 1, 1), end=date(2026, 1, 2))
    FunnelQuery(by="tier", start=date(2025, 1, 1), end=date(2026, 1, 1))  # 366 days: allowed


def test_the_default_range_is_twelve_weeks_from_a_monday() -> None:
    query = default_query(by="channel", today=date(2026, 11, 18))  # a Wednesday
    assert query.start == date(2026, 8, 31)
    assert query.start.weekday() == 0
    assert query.end == date(2026, 11, 18)


def _get(client: TestClient, user: str, query: str) -> Response:
    return client.get(f"/api/v1/analytics/funnel?{query}", headers=login(client, user))


RANGE = "from=2026-11-09&to=2026-11-22"


def test_the_api_gives_hq_every_key_and_a_branch_its_own(
    client: TestClient, funnel_world: dict[str, int]
) -> None:
    every = _get(client, "hq1", f"by=branch&{RANGE}").json()
    assert [row["key"] for row in every["keys"]] == ["BJ-CY", "SZ-FT", None]
    assert every["total"]["acquired"] == 6
    assert every["total"]["conversion"] == pytest.approx(2 / 5)
    own = _get(client, "sz1", f"by=branch&{RANGE}").json()
    assert [row["key"] for row in own["keys"]] == ["SZ-FT"]
    assert own["total"]["revenue_fen"] == 12050
    assert _get(client, "fin1", RANGE).status_code == 403


def test_the_api_names_a_bad_parameter(client: TestClient, funnel_world: dict[str, int]) -> None:
    backwards = _get(client, "hq1", "from=2026-11-22&to=2026-11-09")
    assert backwards.status_code == 422
    assert "before from" in backwards.json()["detail"]
    assert _get(client, "hq1", "by=city").status_code == 422


def test_the_csv_has_a_row_per_week_and_key_with_formulas_escaped(
    client: TestClient, engine: Engine, funnel_world: dict[str, int]
) -> None:
    add_funnel_lead(engine, "X1", channel="=HYPERLINK(1)")
    response = _get(client, "hq1", f"{RANGE}&format=csv")
    assert response.headers["content-type"].startswith("text/csv")
    lines = response.text.splitlines()
    assert lines[0].startswith("week,channel,acquired,assigned,contacted,converted,revenue_fen")
    assert lines[1] == "2026-11-09,'=HYPERLINK(1),1,0,0,0,0,,,,,0,0"
    assert lines[2].startswith("2026-11-09,app,4,3,2,1,12050,0.3333,")
    assert len(lines) == 5

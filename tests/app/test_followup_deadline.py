"""The follow-up deadline on a clock: working days from a calendar, and reclaim by cron."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import col, select
from typer.testing import CliRunner

from app import clock
from app.cli import cli
from app.config import Settings, get_settings
from app.db import session_scope
from app.errors import InvalidInput
from app.ownership.deadline import FollowUp, WorkCalendar, load_calendar
from app.ownership.reclaim import reclaim_lapsed
from app.tables import AuditRecord, Lead, Ownership
from ledger.periods import SHANGHAI
from tests.app.holdings_world import World

FRIDAY_5PM = datetime(2027, 2, 5, 17, 0, tzinfo=SHANGHAI)


def _at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=SHANGHAI)


def test_without_a_calendar_every_hour_counts() -> None:
    now = _at("2027-02-08T09:00")
    assert FollowUp(72).cutoff(now) == now - timedelta(hours=72)


def test_weekends_do_not_count_on_a_weekday_calendar() -> None:
    weekdays = FollowUp(72, WorkCalendar())
    # Assigned Friday 17:00: 7 h on Friday, none at the weekend, 24 + 24 + 17 h to Wednesday.
    assert weekdays.cutoff(_at("2027-02-10T17:00")) == FRIDAY_5PM
    assert weekdays.cutoff(_at("2027-02-10T16:59")) < FRIDAY_5PM


def test_holidays_pause_the_clock_and_makeup_workdays_run_it(tmp_path: Path) -> None:
    path = tmp_path / "calendar.csv"
    path.write_text("date,kind\n2027-02-08,holiday\n2027-02-06,workday\n", encoding="utf-8")
    calendar = load_calendar(str(path))
    assert calendar is not None
    rule = FollowUp(48, calendar)
    # From Friday 17:00: Friday 7 h, Saturday (make-up) 24 h, Sunday 0, Monday (holiday) 0,
    # Tuesday 17 h: 48 h at Tuesday 17:00.
    assert rule.cutoff(_at("2027-02-09T17:00")) == FRIDAY_5PM


def test_a_bad_calendar_names_the_line_and_column(tmp_path: Path) -> None:
    path = tmp_path / "calendar.csv"
    path.write_text("date,kind\n2027-02-08,holiday\n2027-02-31,holiday\n", encoding="utf-8")
    with pytest.raises(InvalidInput, match=r"calendar.csv:3: date: '2027-02-31' is not a date"):
        load_calendar(str(path))
    path.write_text("date,kind\n2027-02-08,day off\n", encoding="utf-8")
    with pytest.raises(InvalidInput, match=r"calendar.csv:2: kind: 'day off' is not one of"):
        load_calendar(str(path))


def test_followup_run_reclaims_lapsed_customers_between_rounds(
    engine: Engine, settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    world = World(engine, settings, tmp_path)
    world.branches()
    start = datetime(2026, 11, 16, 2, 0, tzinfo=UTC)  # Monday 10:00 in Shanghai
    with clock.frozen_at(start) as frozen:
        world.leads("A1,22.545,114.055,mass,13800138001\nB1,22.546,114.056,mass,\n")
        world.solve(commit=True)
        world.leads("A2,22.545,114.055,mass,13800138001\n", name="later.csv")
        frozen.advance(timedelta(hours=71))
        with session_scope(engine) as session:
            assert reclaim_lapsed(session, settings=settings, actor="cron", now=frozen.at) == 0
        frozen.advance(timedelta(hours=2))
        monkeypatch.setenv("O2O_DATABASE_URL", settings.database_url)
        monkeypatch.setenv("O2O_SECRET_KEY", settings.secret_key)
        get_settings.cache_clear()
        try:
            result = CliRunner().invoke(cli, ["followup", "run"])
        finally:
            get_settings.cache_clear()
    assert result.exit_code == 0, result.output
    assert "reclaimed 2 customer(s)" in result.output
    assert {x: s for x, (s, _) in world.holders().items()} == {
        "A1": "reclaimed", "A2": "reclaimed", "B1": "reclaimed",
    }  # fmt: skip
    with session_scope(engine) as session:
        reasons = {o.close_reason for o in session.exec(select(Ownership))}
        lapsed = session.exec(select(Lead).where(col(Lead.external_id) == "A1")).one()
        runs = session.exec(select(AuditRecord).where(AuditRecord.action == "followup.run")).all()
    assert reasons == {"reclaimed"}
    assert lapsed.returned_by_branch_id is not None  # the next round will not send it back
    assert len(runs) == 1


def test_a_weekday_calendar_spares_leads_assigned_before_a_weekend(
    engine: Engine, settings: Settings, tmp_path: Path
) -> None:
    world = World(engine, settings, tmp_path)
    world.branches()
    weekdays = settings.model_copy(update={"work_calendar": "weekdays"})
    with clock.frozen_at(FRIDAY_5PM.astimezone(UTC)) as frozen:
        world.leads("A1,22.545,114.055,mass,\n")
        world.solve(commit=True)
        frozen.advance(timedelta(hours=73))  # Monday 18:00: only 7 + 18 working hours
        with session_scope(engine) as session:
            assert reclaim_lapsed(session, settings=weekdays, actor="cron", now=frozen.at) == 0
            assert reclaim_lapsed(session, settings=settings, actor="cron", now=frozen.at) == 1

"""Notifications are written with the event they tell of: one per (branch, event), set-based,
in the event's transaction (the outbox), once per lead and deadline."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from app import clock
from app.config import Settings
from app.db import session_scope
from app.leads.followup import mark_contacted
from app.notifications.approaching import warn_approaching
from app.notifications.service import notify_assigned
from app.ownership.reclaim import reclaim_lapsed
from app.tables import Branch, Lead, Notification, NotificationOutbox
from tests.app.holdings_world import World

MONDAY_10AM = datetime(2026, 11, 16, 2, 0, tzinfo=UTC)  # in Shanghai
BIG = "code,name,lat,lon,capacity,tiers\nBIG,福田,22.540,114.050,500,\nFAR,朝阳,39.920,116.440,5,\n"


def _notices(session: Session) -> list[tuple[str, str, str, int, list[int]]]:
    """(branch code, kind, source, count, lead ids) of every notification, in id order."""
    codes = {b.id: b.code for b in session.exec(select(Branch))}
    rows = session.exec(select(Notification).order_by(col(Notification.id)))
    return [(codes[n.branch_id], n.kind, n.source, n.lead_count, sorted(json.loads(n.lead_ids)))
            for n in rows]  # fmt: skip


def _outbox(session: Session) -> int:
    return int(session.exec(select(func.count()).select_from(NotificationOutbox)).one())


def _leads(count: int) -> str:
    return "".join(f"L{i:03},22.54{i % 10},114.05{i % 7},mass,\n" for i in range(count))


def test_a_round_tells_each_branch_once_with_the_count_and_the_first_lead_ids(
    engine: Engine, settings: Settings, tmp_path: Path
) -> None:
    world = World(engine, settings, tmp_path)
    world.branches(BIG)
    world.leads(_leads(150) + "P1,39.921,116.441,mass,\n")
    round_id = world.solve(commit=True)
    with session_scope(engine) as session:
        notices = _notices(session)
        ids = sorted(x.id for x in session.exec(select(Lead).where(Lead.external_id != "P1")))
        far = session.exec(select(Lead).where(Lead.external_id == "P1")).one()
        assert _outbox(session) == 2  # one delivery per notification, written with them
        rounds = {n.round_id for n in session.exec(select(Notification))}
    assert notices == [
        ("BIG", "assigned", "round", 150, ids[:100]),
        ("FAR", "assigned", "round", 1, [far.id]),
    ]
    assert rounds == {round_id}


def test_a_rolled_back_assignment_leaves_no_notification_and_nothing_to_send(
    engine: Engine, settings: Settings, tmp_path: Path, branch_ids: dict[str, int]
) -> None:
    def assign_then_fail() -> None:
        with session_scope(engine) as session:
            notify_assigned(session, branch_ids["SZ-FT"], [1, 2, 3])
            raise RuntimeError("the routing transaction fails after writing")

    with pytest.raises(RuntimeError):
        assign_then_fail()
    with session_scope(engine) as session:
        assert _notices(session) == []
        assert _outbox(session) == 0
        notify_assigned(session, branch_ids["SZ-FT"], [3, 1, 2])
    with session_scope(engine) as session:
        assert _notices(session) == [("SZ-FT", "assigned", "routing", 3, [1, 2, 3])]
        assert _outbox(session) == 1


def test_a_round_that_reclaims_lapsed_leads_tells_the_branch_that_loses_them(
    engine: Engine, settings: Settings, tmp_path: Path
) -> None:
    world = World(engine, settings, tmp_path)
    world.branches()
    with clock.frozen_at(MONDAY_10AM) as frozen:
        world.leads("A1,22.545,114.055,mass,\n")
        world.solve(commit=True)
        frozen.advance(timedelta(hours=73))
        second = world.solve(commit=True)
    a1 = world.lead_id("A1")
    with session_scope(engine) as session:
        notices = _notices(session)
        reclaim = session.exec(select(Notification).where(Notification.kind == "reclaimed")).one()
    assert ("NEAR", "reclaimed", "round", 1, [a1]) in notices  # NEAR let it lapse
    assert ("MASS", "assigned", "round", 1, [a1]) in notices  # never back to NEAR
    assert reclaim.round_id == second


def test_the_followup_job_tells_of_reclaims_and_warns_once_before_the_deadline(
    engine: Engine, settings: Settings, tmp_path: Path
) -> None:
    world = World(engine, settings, tmp_path)
    world.branches()
    with clock.frozen_at(MONDAY_10AM) as frozen:
        world.leads("A1,22.545,114.055,mass,\nB1,22.546,114.056,mass,\n")
        world.solve(commit=True)
        frozen.advance(timedelta(hours=63, minutes=59))  # 8 h 1 min left: not yet
        with session_scope(engine) as session:
            assert warn_approaching(session, settings=settings, now=frozen.at) == 0
            mark_contacted(session, principal=_staff(session, "NEAR"), lead_id=world.lead_id("B1"))
        frozen.advance(timedelta(minutes=2))
        for expected in (1, 0):  # the second run warns nobody again
            with session_scope(engine) as session:
                assert warn_approaching(session, settings=settings, now=frozen.at) == expected
        frozen.advance(timedelta(hours=9))
        with session_scope(engine) as session:
            assert warn_approaching(session, settings=settings, now=frozen.at) == 0  # lapsed
            assert reclaim_lapsed(session, settings=settings, actor="cron", now=frozen.at) == 1
    a1 = world.lead_id("A1")
    with session_scope(engine) as session:
        notices = _notices(session)
    assert notices[1:] == [
        ("NEAR", "deadline_approaching", "followup", 1, [a1]),
        ("NEAR", "reclaimed", "followup", 1, [a1]),
    ]


def test_warnings_count_working_hours_on_the_deadline_calendar(
    engine: Engine, settings: Settings, tmp_path: Path
) -> None:
    world = World(engine, settings, tmp_path)
    world.branches()
    weekdays = settings.model_copy(update={"work_calendar": "weekdays"})
    friday_5pm = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
    with clock.frozen_at(friday_5pm) as frozen:
        world.leads("A1,22.545,114.055,mass,\n")
        world.solve(commit=True)
        frozen.advance(timedelta(hours=65))  # Monday 10:00: 7 + 10 working hours used
        with session_scope(engine) as session:
            assert warn_approaching(session, settings=weekdays, now=frozen.at) == 0
            assert warn_approaching(session, settings=settings, now=frozen.at) == 1


def _staff(session: Session, code: str):  # type: ignore[no-untyped-def]
    from app.auth import Principal

    branch = session.exec(select(Branch).where(Branch.code == code)).one()
    return Principal(user_id=0, username=f"{code}-staff", role="branch", branch_id=branch.id,
                     branch_code=code)  # fmt: skip

"""Routing knows branch loads without counting them (app/ownership/load_floor.py): a stored
exact count stays a floor of the load while the database records every fall of it, and the
load itself while it records every rise too.

Falls and rises are written here with plain SQL, as any writer could: the triggers of
migrations 0022 and 0026, not the services, are what records them.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlmodel import Session, select
from typer.testing import CliRunner

from app.cli import cli
from app.config import Settings, get_settings
from app.db import session_scope
from app.intake.schemas import IntakeBatch, IntakeLead, IntakeResult
from app.intake.service import take_leads
from app.ownership.load_floor import known_full, misstated_counts, read_book
from app.tables import Branch, BranchLoadDrop, BranchLoadRise, BranchLoadSeen
from tests.app.holdings_world import World

BRANCHES = """code,name,lat,lon,capacity,tiers
WEST,西区,22.500,114.000,2,mass|affluent
EAST,东区,22.500,114.200,10,mass|affluent
"""
AT_WEST = "22.500,114.000"
SIBLING = (  # a second lead of R1's customer, written straight into the table
    "INSERT INTO lead (channel, external_id, customer_id, tier, status, created_at, updated_at)"
    " SELECT 'app', 'R1B', customer_id, 'mass', 'new', created_at, updated_at"
    " FROM lead WHERE external_id = 'R1'"
)


@pytest.fixture
def world(engine: Engine, settings: Settings, tmp_path: Path) -> World:
    w = World(engine, settings, tmp_path)
    w.branches(BRANCHES)
    w.leads(f"R1,{AT_WEST},mass,13800000001\nR2,{AT_WEST},mass,13800000002\n"
            f"R3,{AT_WEST},mass,13800000003\n")  # fmt: skip
    w.solve(commit=True)
    return w


def _intake(world: World, external_id: str, mobile: str) -> IntakeResult:
    lead = IntakeLead.model_validate(
        {"external_id": external_id, "lat": 22.5, "lon": 114.0, "mobile": mobile}
    )
    with session_scope(world.engine) as session:
        return take_leads(session, channel="app", key_id="test", batch=IntakeBatch(leads=[lead]),
                          secret=world.settings.customer_key)  # fmt: skip


def _sql(world: World, statement: str, **params: object) -> None:
    with session_scope(world.engine) as session:
        session.execute(text(statement), params)


def _west(session: Session) -> Branch:
    return session.exec(select(Branch).where(Branch.code == "WEST")).one()


def _known_full(world: World) -> set[str]:
    with session_scope(world.engine) as session:
        branches = list(session.exec(select(Branch)))
        codes = {b.id: b.code for b in branches}
        return {codes[i] for i in known_full(session, branches)}


def _drops(world: World) -> int:
    with session_scope(world.engine) as session:
        return len(session.exec(select(BranchLoadDrop)).all())


def _full_west(world: World) -> None:
    """A first intake counts WEST full, and the floor says so from then on."""
    assert _intake(world, "N1", "13900000001").leads[0].branch_code == "EAST"
    assert _known_full(world) == {"WEST"}
    assert world.loads()["WEST"] == 2


def test_a_round_commit_records_no_drop(world: World) -> None:
    # 1.3M pool leads assigned by a commit match no trigger: the commit stays set-based.
    assert _drops(world) == 0


def test_a_branch_known_full_is_skipped_and_stays_known(world: World) -> None:
    _full_west(world)
    assert _intake(world, "N2", "13900000002").leads[0].branch_code == "EAST"
    assert _known_full(world) == {"WEST"}


@pytest.mark.parametrize(
    "fall",
    [
        "UPDATE lead SET status = 'converted' WHERE external_id = 'R1'",
        "UPDATE lead SET status = 'returned', branch_id = NULL WHERE external_id = 'R1'",
        "UPDATE lead SET branch_id = (SELECT id FROM branch WHERE code = 'EAST')"
        " WHERE external_id = 'R1'",
        # The customer converts through another lead, in the pool: R1's own row does not change.
        f"{SIBLING}; UPDATE lead SET status = 'converted' WHERE external_id = 'R1B'",
    ],
    ids=["converted", "returned", "moved", "customer-converted-elsewhere"],
)
def test_a_fall_of_the_load_by_any_writer_makes_routing_count_again(
    world: World, fall: str
) -> None:
    _full_west(world)
    for statement in fall.split("; "):
        _sql(world, statement)
    assert _known_full(world) == set()
    result = _intake(world, "N2", "13900000002")
    assert result.leads[0].branch_code == "WEST"  # the freed place is found, not skipped
    assert (world.loads()["WEST"], _drops(world)) == (2, 0)  # counted again, drops consumed
    assert _intake(world, "N3", "13900000003").leads[0].branch_code == "EAST"
    assert _known_full(world) == {"WEST"}


def test_a_converted_lead_inserted_for_a_held_customer_records_its_branch(world: World) -> None:
    _full_west(world)
    _sql(world, SIBLING.replace("'R1B', customer_id, 'mass', 'new'",
                                "'R1B', customer_id, 'mass', 'converted'"))  # fmt: skip
    assert _known_full(world) == set()
    assert world.loads()["WEST"] == 1


def test_contacting_a_lead_is_no_fall(world: World) -> None:
    _full_west(world)
    _sql(world, "UPDATE lead SET status = 'contacted' WHERE external_id = 'R1'")
    assert _drops(world) == 0
    assert _known_full(world) == {"WEST"}


def test_the_consistency_check_finds_a_floor_above_the_load(world: World) -> None:
    _full_west(world)
    _sql(world, "UPDATE lead SET status = 'converted' WHERE external_id = 'R1'")
    with session_scope(world.engine) as session:
        assert misstated_counts(session) == {}  # the drop is recorded: the floor is void
        session.execute(text("DELETE FROM branch_load_drop"))  # what a missing trigger would do
        west = _west(session).id
        assert misstated_counts(session) == {west: ("floor", 2, 1)}
        seen = session.get(BranchLoadSeen, west)
        assert seen is not None
        assert seen.customers == 2


def test_the_command_line_checks_the_floors(
    world: World, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("O2O_DATABASE_URL", settings.database_url)
    monkeypatch.setenv("O2O_SECRET_KEY", settings.secret_key)
    get_settings.cache_clear()
    runner = CliRunner()
    try:
        _full_west(world)
        held = runner.invoke(cli, ["routing", "check-floors"])
        assert (held.exit_code, held.output) == (0, "branch floors hold\n")
        _sql(world, "UPDATE lead SET status = 'converted' WHERE external_id = 'R1'")
        _sql(world, "DELETE FROM branch_load_drop")  # a fall the database failed to record
        broken = runner.invoke(cli, ["routing", "check-floors"])
        assert broken.exit_code == 1
        assert "floor 2 > load 1" in broken.output
    finally:
        get_settings.cache_clear()


WEST_ID = "(SELECT id FROM branch WHERE code = 'WEST')"
CONVERT_R1 = "UPDATE lead SET status = 'converted' WHERE external_id = 'R1'"
CONVERT_SIBLING = f"{SIBLING}; UPDATE lead SET status = 'converted' WHERE external_id = 'R1B'"


def _exact_west(world: World) -> int | None:
    with session_scope(world.engine) as session:
        west = _west(session).id
        assert west is not None
        return read_book(session).exact(west)


def _place_into_west_with_room_left(world: World, fall: str) -> None:
    """WEST full, a fall, a new customer routed there (counted once, then kept exact), and
    one more place given to WEST: its kept count (2) is now below its capacity (3)."""
    _full_west(world)
    for statement in fall.split("; "):
        _sql(world, statement)
    assert _intake(world, "N2", "13900000002").leads[0].branch_code == "WEST"
    _sql(world, f"UPDATE branch SET capacity = 3 WHERE id = {WEST_ID}")
    assert _exact_west(world) == world.loads()["WEST"] == 2


def test_routing_keeps_the_count_it_placed_into_exact(world: World) -> None:
    _place_into_west_with_room_left(world, CONVERT_R1)
    with session_scope(world.engine) as session:
        assert session.exec(select(BranchLoadRise)).all() == []  # its own rise is no news
        assert misstated_counts(session) == {}
    assert _intake(world, "N3", "13900000003").leads[0].branch_code == "WEST"
    assert _exact_west(world) == world.loads()["WEST"] == 3


@pytest.mark.parametrize(
    ("fall", "rise"),
    [
        (CONVERT_R1, "UPDATE lead SET status = 'contacted' WHERE external_id = 'R1'"),
        (CONVERT_R1, f"UPDATE lead SET branch_id = {WEST_ID} WHERE external_id = 'N1'"),
        (CONVERT_SIBLING, "UPDATE lead SET status = 'returned' WHERE external_id = 'R1B'"),
        (
            CONVERT_R1,
            "INSERT INTO lead (channel, external_id, customer_id, tier, status, branch_id,"
            f" created_at, updated_at) SELECT 'app', 'N1B', customer_id, 'mass', 'assigned',"
            f" {WEST_ID}, created_at, updated_at FROM lead WHERE external_id = 'N1'",
        ),
    ],
    ids=["unconverted", "moved-in", "customer-unconverted-elsewhere", "inserted"],
)
def test_a_rise_of_the_load_by_any_writer_makes_routing_count_again(
    world: World, fall: str, rise: str
) -> None:
    _place_into_west_with_room_left(world, fall)
    _sql(world, rise)
    assert world.loads()["WEST"] == 3
    assert _exact_west(world) is None
    result = _intake(world, "N3", "13900000003")
    assert result.leads[0].branch_code == "EAST"  # counted: WEST is full, not 2 of 3
    assert _exact_west(world) == world.loads()["WEST"] == 3


def test_the_consistency_check_finds_an_exact_count_that_is_not_the_load(world: World) -> None:
    _place_into_west_with_room_left(world, CONVERT_R1)
    _sql(world, "UPDATE lead SET status = 'contacted' WHERE external_id = 'R1'")
    with session_scope(world.engine) as session:
        assert misstated_counts(session) == {}  # the rise is recorded: the count is a floor
        session.execute(text("DELETE FROM branch_load_rise"))  # what a missing trigger would do
        west = _west(session).id
        assert misstated_counts(session) == {west: ("exact", 2, 3)}


def test_a_round_commit_leaves_every_branch_counted_and_no_record(world: World) -> None:
    """Records written before a commit are consumed by it, and every branch's count is then
    the load itself: the intakes after a round count no branch again."""
    _full_west(world)
    _sql(world, CONVERT_R1)  # a fall
    _sql(world, f"INSERT INTO branch_load_rise (branch_id) SELECT {WEST_ID}")
    world.leads(f"P1,{AT_WEST},mass,13800000009\n", name="pool.csv")
    world.solve(commit=True)
    with session_scope(world.engine) as session:
        assert session.exec(select(BranchLoadDrop)).all() == []
        assert session.exec(select(BranchLoadRise)).all() == []
        book = read_book(session)
        codes = {b.id: b.code for b in session.exec(select(Branch))}
        assert {codes[b]: book.exact(b) for b in codes} == world.loads()
        assert misstated_counts(session) == {}

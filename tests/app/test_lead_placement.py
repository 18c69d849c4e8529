"""`lead_placement` mirrors every lead with a branch, whatever writes the lead (migration 0025).

The database keeps it (triggers), so these tests write `lead` the ways the product does, one
row and set-based, and also ways it never does (raw SQL), and compare the mirror each time.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlmodel import select

from app.auth import Principal
from app.db import session_scope
from app.leads.repository import LeadFilter, list_leads
from app.ownership.holdings import branch_load
from app.tables import Lead, LeadPlacement
from tests.app.factories import add_lead

T0 = datetime(2026, 12, 1, 2, 0, tzinfo=UTC)


def _mirror(engine: Engine) -> tuple[set[tuple[object, ...]], set[tuple[object, ...]]]:
    with session_scope(engine) as session:
        placed = {(p.lead_id, p.branch_id, p.status, p.acquired_at, p.customer_id)
                  for p in session.exec(select(LeadPlacement))}  # fmt: skip
        expected = {(x.id, x.branch_id, x.status, x.acquired_at, x.customer_id)
                    for x in session.exec(select(Lead)) if x.branch_id is not None}  # fmt: skip
    return placed, expected


def _assert_mirrored(engine: Engine) -> None:
    placed, expected = _mirror(engine)
    assert placed == expected


def test_inserts_and_row_updates_keep_the_mirror(
    engine: Engine, branch_ids: dict[str, int]
) -> None:
    placed_lead = add_lead(engine, external_id="P1", branch_id=branch_ids["SZ-FT"])
    pooled_lead = add_lead(engine, external_id="P2", branch_id=None)
    _assert_mirrored(engine)
    with session_scope(engine) as session:
        moved = session.get_one(Lead, placed_lead)
        moved.branch_id, moved.status = branch_ids["BJ-CY"], "contacted"
        pooled = session.get_one(Lead, pooled_lead)
        pooled.branch_id, pooled.status, pooled.acquired_at = branch_ids["SZ-FT"], "assigned", T0
    _assert_mirrored(engine)
    with session_scope(engine) as session:
        released = session.get_one(Lead, placed_lead)
        released.branch_id, released.status = None, "returned"
        session.get_one(Lead, pooled_lead).name = "改名"  # not a placement change
    _assert_mirrored(engine)


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE lead SET branch_id = {sz}, status = 'assigned'",
        "UPDATE lead SET status = 'converted' WHERE branch_id IS NOT NULL",
        "UPDATE lead SET branch_id = NULL, status = 'reclaimed' WHERE external_id = 'S1'",
        "UPDATE lead SET branch_id = CASE WHEN id % 2 = 0 THEN {bj} ELSE NULL END",
        "UPDATE lead SET updated_at = CURRENT_TIMESTAMP",
    ],
)
def test_set_based_updates_keep_the_mirror(
    engine: Engine, branch_ids: dict[str, int], statement: str
) -> None:
    for k in range(6):
        add_lead(engine, external_id=f"S{k}", branch_id=branch_ids["SZ-FT"] if k % 3 else None)
    sql = statement.format(sz=branch_ids["SZ-FT"], bj=branch_ids["BJ-CY"])
    with session_scope(engine) as session:
        session.execute(text(sql))
    _assert_mirrored(engine)


def test_a_rolled_back_write_leaves_the_mirror_as_it_was(
    engine: Engine, branch_ids: dict[str, int]
) -> None:
    lead_id = add_lead(engine, external_id="R1", branch_id=branch_ids["SZ-FT"])
    before, _ = _mirror(engine)
    with pytest.raises(RuntimeError, match="fails after the write"):
        _release_then_fail(engine, lead_id)
    assert _mirror(engine)[0] == before


def _release_then_fail(engine: Engine, lead_id: int) -> None:
    with session_scope(engine) as session:
        session.execute(text(f"UPDATE lead SET branch_id = NULL WHERE id = {lead_id}"))
        raise RuntimeError("the unit of work fails after the write")


def test_branch_reads_go_through_the_mirror(engine: Engine, branch_ids: dict[str, int]) -> None:
    """A branch sees what the mirror places with it, in list order, and counts the same load."""
    sz = branch_ids["SZ-FT"]
    for k in range(5):
        add_lead(engine, external_id=f"B{k}", branch_id=sz if k != 2 else branch_ids["BJ-CY"])
    branch_user = Principal(user_id=9, username="sz1", role="branch", branch_id=sz,
                            branch_code="SZ-FT")  # fmt: skip
    with session_scope(engine) as session:
        rows, total = list_leads(session, principal=branch_user, flt=LeadFilter(), limit=10,
                                 offset=0)  # fmt: skip
        assert [row["external_id"] for row in rows] == ["B0", "B1", "B3", "B4"]
        assert {row["branch_code"] for row in rows} == {"SZ-FT"}
        assert total == 4
        assert branch_load(session, sz) == 4


@pytest.mark.parametrize(
    ("flt", "expected"),
    [(LeadFilter(), 6), (LeadFilter(status="contacted"), 2),
     (LeadFilter(status="assigned", sort="oldest"), 4), (LeadFilter(channel="app"), 6),
     (LeadFilter(branch_code="BJ-CY"), 0)],
    ids=["all", "contacted", "assigned", "channel", "other-branch"],
)  # fmt: skip
def test_a_branch_page_total_is_the_count_of_its_rows(
    engine: Engine, branch_ids: dict[str, int], flt: LeadFilter, expected: int
) -> None:
    """Counted from the placement rows alone when no filter needs the lead: the same total."""
    sz = branch_ids["SZ-FT"]
    for k in range(7):
        add_lead(engine, external_id=f"T{k}", branch_id=sz if k != 3 else branch_ids["BJ-CY"])
    with session_scope(engine) as session:
        session.execute(
            text("UPDATE lead SET status = 'contacted' WHERE external_id IN ('T1', 'T5')")
        )
    branch_user = Principal(user_id=9, username="sz1", role="branch", branch_id=sz,
                            branch_code="SZ-FT")  # fmt: skip
    with session_scope(engine) as session:
        rows, total = list_leads(session, principal=branch_user, flt=flt, limit=100, offset=0)
    assert total == len(rows) == expected


@pytest.mark.parametrize("offset", [0, 2, 4, 6, 50])
def test_every_page_carries_the_total_past_the_end_too(
    engine: Engine, branch_ids: dict[str, int], offset: int
) -> None:
    """The total rides on the page's rows; a page past the end has none and counts apart."""
    sz = branch_ids["SZ-FT"]
    for k in range(5):
        add_lead(engine, external_id=f"P{k}", branch_id=sz)
    branch_user = Principal(user_id=9, username="sz1", role="branch", branch_id=sz,
                            branch_code="SZ-FT")  # fmt: skip
    with session_scope(engine) as session:
        rows, total = list_leads(session, principal=branch_user, flt=LeadFilter(), limit=2,
                                 offset=offset)  # fmt: skip
    assert total == 5
    assert [row["external_id"] for row in rows] == [f"P{k}" for k in range(5)][offset : offset + 2]

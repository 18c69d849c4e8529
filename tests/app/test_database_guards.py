"""The database itself refuses what the application must never do, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, insert, text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DatabaseError
from sqlmodel import select

from app.db import session_scope
from app.tables import AllocationRound, AuditRecord, Customer, Lead, Ownership
from app.tables.base import utcnow
from tests.app.factories import add_lead


def _open(
    engine: Engine,
    *,
    lead_id: int,
    branch_id: int,
    hours_ago: int,
    closed_hours_ago: int | None = None,
) -> None:
    now = utcnow()
    with session_scope(engine) as session:
        session.add(
            Ownership(
                lead_id=lead_id,
                customer_id=session.get_one(Lead, lead_id).customer_id,
                branch_id=branch_id,
                valid_from=now - timedelta(hours=hours_ago),
                valid_to=None
                if closed_hours_ago is None
                else now - timedelta(hours=closed_hours_ago),
                close_reason=None if closed_hours_ago is None else "transferred",
                opened_by="transfer",
            )
        )


def test_overlapping_ownership_of_one_lead_is_refused(
    engine: Engine, branch_ids: dict[str, int]
) -> None:
    lead_id = add_lead(engine, external_id="L1", branch_id=None)
    _open(engine, lead_id=lead_id, branch_id=branch_ids["SZ-FT"], hours_ago=10)
    with pytest.raises(DatabaseError):
        _open(engine, lead_id=lead_id, branch_id=branch_ids["BJ-CY"], hours_ago=5)


def test_adjacent_ownership_intervals_are_fine(engine: Engine, branch_ids: dict[str, int]) -> None:
    lead_id = add_lead(engine, external_id="L1", branch_id=None)
    _open(engine, lead_id=lead_id, branch_id=branch_ids["SZ-FT"], hours_ago=10, closed_hours_ago=5)
    _open(engine, lead_id=lead_id, branch_id=branch_ids["BJ-CY"], hours_ago=5)


def test_reopening_a_closed_interval_into_an_overlap_is_refused(
    engine: Engine, branch_ids: dict[str, int]
) -> None:
    lead_id = add_lead(engine, external_id="L1", branch_id=None)
    _open(engine, lead_id=lead_id, branch_id=branch_ids["SZ-FT"], hours_ago=10, closed_hours_ago=5)
    _open(engine, lead_id=lead_id, branch_id=branch_ids["BJ-CY"], hours_ago=5)
    with pytest.raises(DatabaseError), session_scope(engine) as session:
        session.execute(
            text(
                "UPDATE ownership SET valid_to = NULL, close_reason = NULL WHERE close_reason = 'transferred'"
            )
        )


@pytest.mark.parametrize(
    "statement", ["UPDATE audit_log SET actor = 'someone else'", "DELETE FROM audit_log"]
)
def test_the_audit_log_is_append_only(
    engine: Engine, branch_ids: dict[str, int], statement: str
) -> None:
    with session_scope(engine) as session:
        assert session.exec(select(AuditRecord)).first() is not None
    with pytest.raises(DatabaseError), session_scope(engine) as session:
        session.execute(text(statement))


def test_a_backdated_interval_overlapping_a_closed_one_is_refused(
    engine: Engine, branch_ids: dict[str, int]
) -> None:
    lead_id = add_lead(engine, external_id="L1", branch_id=None)
    _open(engine, lead_id=lead_id, branch_id=branch_ids["SZ-FT"], hours_ago=10, closed_hours_ago=5)
    with pytest.raises(DatabaseError):
        _open(
            engine, lead_id=lead_id, branch_id=branch_ids["BJ-CY"], hours_ago=8, closed_hours_ago=6
        )


@pytest.mark.parametrize(
    "statement",
    [
        # Missing parents, one statement each (PostgreSQL checks these per statement).
        "INSERT INTO ownership (lead_id, customer_id, branch_id, valid_from, opened_by) "
        "VALUES (999999, {customer}, {branch}, CURRENT_TIMESTAMP, 'transfer')",
        "INSERT INTO ownership (lead_id, customer_id, branch_id, valid_from, opened_by) "
        "VALUES ({lead}, 999999, {branch}, CURRENT_TIMESTAMP, 'transfer')",
        "INSERT INTO ownership (lead_id, customer_id, branch_id, valid_from, opened_by) "
        "VALUES ({lead}, {customer}, 999999, CURRENT_TIMESTAMP, 'transfer')",
        "UPDATE ownership SET branch_id = 999999",
        "INSERT INTO round_assignment (round_id, lead_id, customer_id, explanation)"
        " VALUES (999999, {lead}, {customer}, '')",
        "INSERT INTO lead (channel, external_id, customer_id, tier, status, created_at, updated_at) "
        "VALUES ('app', 'X9', 999999, 'mass', 'new', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)",
        "UPDATE lead SET branch_id = 999999, status = 'assigned'",
        "UPDATE lead SET returned_by_branch_id = 999999",
        "INSERT INTO lead (channel, external_id, customer_id, tier, status, branch_id, created_at,"
        " updated_at) SELECT 'app', 'X8', customer_id, 'mass', 'assigned', 999999, created_at,"
        " updated_at FROM lead",
        # A lead's customer is fixed once set (so checking it on insert is enough).
        "UPDATE lead SET customer_id = (SELECT MAX(id) FROM customer)",
    ],
)
def test_references_to_missing_rows_are_refused(
    engine: Engine, branch_ids: dict[str, int], statement: str
) -> None:
    lead_id = add_lead(engine, external_id="L1", branch_id=None)
    _open(engine, lead_id=lead_id, branch_id=branch_ids["SZ-FT"], hours_ago=10)
    with session_scope(engine) as session:
        session.add(Customer(customer_key="k" * 64))
    with session_scope(engine) as session:
        customer_id = session.get_one(Lead, lead_id).customer_id
    sql = statement.format(lead=lead_id, customer=customer_id, branch=branch_ids["BJ-CY"])
    with pytest.raises(DatabaseError), session_scope(engine) as session:
        session.execute(text(sql))


@pytest.mark.parametrize("table", ["lead", "customer", "branch"])
def test_history_is_never_deleted_nor_renumbered(
    engine: Engine, branch_ids: dict[str, int], table: str
) -> None:
    add_lead(engine, external_id="L1", branch_id=None)
    with session_scope(engine) as session:
        session.add(Customer(customer_key="k" * 64))
    for statement in (f"DELETE FROM {table}", f"UPDATE {table} SET id = id + 1000"):
        with pytest.raises(DatabaseError), session_scope(engine) as session:
            session.execute(text(statement))
    with session_scope(engine) as session:
        assert session.execute(text(f"SELECT COUNT(*) FROM {table}")).scalar_one() >= 1


MANY = 1200  # leads: above the size where PostgreSQL's checks count instead (migration 0032)


def _many_leads(engine: Engine) -> None:
    """`MANY` new leads, each of its own customer, written in two statements."""
    now = utcnow()
    keys = [f"{i:064d}" for i in range(MANY)]
    with session_scope(engine) as session:
        session.execute(insert(Customer), [{"customer_key": k, "created_at": now} for k in keys])
        ids = dict(session.execute(select(Customer.customer_key, Customer.id)).all())
        session.execute(insert(Lead), [
            {"channel": "app", "external_id": f"M{i}", "customer_id": ids[k], "tier": "mass",
             "status": "new", "created_at": now, "updated_at": now}
            for i, k in enumerate(keys)
        ])  # fmt: skip


_LAST = "(SELECT MAX(id) FROM lead)"
_INTERVALS = (
    "INSERT INTO ownership (lead_id, customer_id, branch_id, valid_from, opened_by) "
    "SELECT {lead}, {customer}, {branch}, CURRENT_TIMESTAMP, 'round' FROM lead"
)


@pytest.mark.parametrize(
    "statement",
    [
        f"UPDATE lead SET branch_id = CASE WHEN id = {_LAST} THEN 999999 ELSE {{branch}} END",
        f"UPDATE lead SET returned_by_branch_id = CASE WHEN id = {_LAST} THEN 999999 END",
        "INSERT INTO lead (channel, external_id, customer_id, tier, status, created_at, updated_at)"
        f" SELECT 'web', external_id, CASE WHEN id = {_LAST} THEN 999999 ELSE customer_id END,"
        " tier, status, created_at, updated_at FROM lead",
        _INTERVALS.format(lead=f"CASE WHEN id = {_LAST} THEN 999999 ELSE id END",
                          customer="customer_id", branch="{branch}"),
        _INTERVALS.format(lead="id", customer=f"CASE WHEN id = {_LAST} THEN 999999 ELSE "
                          "customer_id END", branch="{branch}"),
        _INTERVALS.format(lead="id", customer="customer_id",
                          branch=f"CASE WHEN id = {_LAST} THEN 999999 ELSE {{branch}} END"),
        # One customer opened twice in one statement: two owners.
        _INTERVALS.format(lead="id", customer="customer_id", branch="{branch}")
        + f" UNION ALL SELECT id, customer_id, {{branch}}, CURRENT_TIMESTAMP, 'round' FROM lead"
        f" WHERE id = {_LAST}",
        "INSERT INTO round_assignment (round_id, lead_id, customer_id, explanation) "
        "SELECT 999999, id, customer_id, '' FROM lead",
    ],
)  # fmt: skip
def test_a_large_statement_with_one_bad_row_is_refused(
    engine: Engine, branch_ids: dict[str, int], statement: str
) -> None:
    _many_leads(engine)
    with pytest.raises(DatabaseError), session_scope(engine) as session:
        session.execute(text(statement.format(branch=branch_ids["SZ-FT"])))


def test_a_large_statement_of_good_rows_passes_the_same_checks(
    engine: Engine, branch_ids: dict[str, int]
) -> None:
    _many_leads(engine)
    branch = branch_ids["SZ-FT"]
    with session_scope(engine) as session:
        session.execute(text(_INTERVALS.format(lead="id", customer="customer_id", branch=branch)))
        session.execute(text(f"UPDATE lead SET branch_id = {branch}, status = 'assigned'"))
    with session_scope(engine) as session:
        opened = session.exec(select(func.count()).select_from(Ownership)).one()
    assert opened == MANY


@pytest.mark.parametrize("rows", [1, MANY])
@pytest.mark.parametrize(
    ("statement", "named"),
    [
        ("UPDATE lead SET branch_id = CASE WHEN id = {last} THEN 999999 ELSE {branch} END,"
         " status = 'assigned' WHERE id > {first}", "lead.branch_id"),
        ("UPDATE lead SET returned_by_branch_id = CASE WHEN id = {last} THEN 999999 END"
         " WHERE id > {first}", "lead.returned_by_branch_id"),
        ("INSERT INTO ownership (lead_id, customer_id, branch_id, valid_from, opened_by) SELECT"
         " id, customer_id, CASE WHEN id = {last} THEN 999999 ELSE {branch} END,"
         " CURRENT_TIMESTAMP, 'round' FROM lead WHERE id > {first}", "ownership.branch_id"),
        ("INSERT INTO round_assignment (round_id, lead_id, customer_id, explanation)"
         " SELECT 999999, id, customer_id, '' FROM lead WHERE id > {first}",
         "round_assignment.round_id"),
    ],
)  # fmt: skip
def test_postgresql_names_the_missing_branch_or_round_in_small_and_large_statements(
    engine: Engine, branch_ids: dict[str, int], statement: str, named: str, rows: int
) -> None:
    """The branch and round references are checked in the pass that counts the written rows
    (migration 0038): the same refusal, naming the column, at either size."""
    if engine.dialect.name != "postgresql":
        pytest.skip("SQLite checks these with its own foreign keys")
    _many_leads(engine)
    with session_scope(engine) as session:
        last = session.execute(text("SELECT MAX(id) FROM lead")).scalar_one()
    sql = statement.format(last=last, first=last - rows, branch=branch_ids["SZ-FT"])
    with pytest.raises(DatabaseError, match=f"{named} refers to"), session_scope(engine) as s:
        s.execute(text(sql))


def test_leads_without_a_branch_are_written_before_any_branch_exists(engine: Engine) -> None:
    """A lead, a pooled one, needs no branch: with none in the database yet, small and large
    writes pass the branch checks (in SQL, `NULL NOT IN` an empty table is true)."""
    add_lead(engine, external_id="L1", branch_id=None)
    _many_leads(engine)
    with session_scope(engine) as session:
        session.execute(text("UPDATE lead SET returned_by_branch_id = NULL, status = 'new'"))
        assert session.execute(text("SELECT COUNT(*) FROM branch")).scalar_one() == 0
        assert session.execute(text("SELECT COUNT(*) FROM lead")).scalar_one() == MANY + 1


_WRONG_CUSTOMER = {
    "round_assignment": (
        "INSERT INTO round_assignment (round_id, lead_id, customer_id, explanation)"
        " SELECT {round}, {lead}, CASE WHEN id = {last} THEN {other} ELSE customer_id END, ''"
        " FROM lead WHERE id > {first}"
    ),
    "ownership": (
        "INSERT INTO ownership (lead_id, customer_id, branch_id, valid_from, opened_by)"
        " SELECT {lead}, CASE WHEN id = {last} THEN {other} ELSE customer_id END, {branch},"
        " CURRENT_TIMESTAMP, 'round' FROM lead WHERE id > {first}"
    ),
}


def _pairing_world(engine: Engine) -> dict[str, int]:
    """`MANY` leads, a round, and a customer with no lead of its own."""
    _many_leads(engine)
    with session_scope(engine) as session:
        allocation_round = AllocationRound(created_by="test")
        session.add(allocation_round)
        session.add(Customer(customer_key="k" * 64))
        session.flush()
        last = session.execute(text("SELECT MAX(id) FROM lead")).scalar_one()
        other = session.execute(text("SELECT MAX(id) FROM customer")).scalar_one()
        return {"round": allocation_round.id or 0, "last": last, "other": other}


@pytest.mark.parametrize("rows", [1, MANY])
@pytest.mark.parametrize("table", sorted(_WRONG_CUSTOMER))
def test_a_row_whose_customer_is_not_its_leads_is_refused(
    engine: Engine, branch_ids: dict[str, int], table: str, rows: int
) -> None:
    """The commit reads a lead's customer from its assignment (migration 0039): on both
    databases an assignment or interval naming another (existing) customer is refused, in
    small statements and in large ones, and nothing of the statement is written."""
    world = _pairing_world(engine)
    sql = _WRONG_CUSTOMER[table].format(
        **world, lead="id", first=world["last"] - rows, branch=branch_ids["SZ-FT"]
    )
    with pytest.raises(DatabaseError, match=rf"{table}\.customer_id"), session_scope(engine) as s:
        s.execute(text(sql))
    with session_scope(engine) as session:
        assert session.execute(text(f"SELECT COUNT(*) FROM {table}")).scalar_one() == 0


@pytest.mark.parametrize("rows", [1, MANY])
@pytest.mark.parametrize("table", sorted(_WRONG_CUSTOMER))
def test_postgresql_still_names_a_missing_lead(
    engine: Engine, branch_ids: dict[str, int], table: str, rows: int
) -> None:
    """Lead and customer are checked as one pair; a refused pair whose lead does not exist
    is named as a missing lead, as before the pair was checked."""
    if engine.dialect.name != "postgresql":
        pytest.skip("SQLite checks the lead with its own foreign key")
    world = _pairing_world(engine)
    sql = _WRONG_CUSTOMER[table].format(
        **{**world, "other": "customer_id"}, lead=f"CASE WHEN id = {world['last']} THEN 999999"
        " ELSE id END", first=world["last"] - rows, branch=branch_ids["SZ-FT"],
    )  # fmt: skip
    refused = pytest.raises(DatabaseError, match=rf"{table}\.lead_id refers to a lead")
    with refused, session_scope(engine) as session:
        session.execute(text(sql))


def test_an_interval_moved_to_another_customer_is_refused(
    engine: Engine, branch_ids: dict[str, int]
) -> None:
    lead_id = add_lead(engine, external_id="L1", branch_id=None)
    _open(engine, lead_id=lead_id, branch_id=branch_ids["SZ-FT"], hours_ago=10)
    with session_scope(engine) as session:
        session.add(Customer(customer_key="k" * 64))
    refused = pytest.raises(DatabaseError, match=r"ownership\.customer_id")
    with refused, session_scope(engine) as session:
        session.execute(text("UPDATE ownership SET customer_id = (SELECT MAX(id) FROM customer)"))


@pytest.mark.parametrize("ends_hours_ago", [-1, 1])
def test_a_large_statement_of_open_intervals_is_checked_against_what_ends_after_it_begins(
    engine: Engine, branch_ids: dict[str, int], ends_hours_ago: int
) -> None:
    """PostgreSQL skips the overlap join when every interval in the table ended before the
    new ones begin (migration 0040): an interval of one of the customers that ends after
    they begin (here in an hour) still refuses them all; one that ended an hour ago does not."""
    _many_leads(engine)
    with session_scope(engine) as session:
        last = session.execute(text("SELECT MAX(id) FROM lead")).scalar_one()
    branch = branch_ids["SZ-FT"]
    _open(engine, lead_id=last, branch_id=branch, hours_ago=10, closed_hours_ago=ends_hours_ago)
    opening = text(
        "INSERT INTO ownership (lead_id, customer_id, branch_id, valid_from, opened_by)"
        f" SELECT id, customer_id, {branch}, :start, 'round' FROM lead"
    )
    start = {"start": utcnow()}  # the clock _open read, not the database's
    if ends_hours_ago > 0:
        with session_scope(engine) as session:
            session.execute(opening, start)
        return
    refused = pytest.raises(DatabaseError, match="may not overlap")
    with refused, session_scope(engine) as session:
        session.execute(opening, start)

"""round_assignment carries its lead's customer; an interval's lead must be of its customer

Revision ID: 0039
Revises: 0038
Create Date: 2026-12-07

Issue 18.2. A round commit asked `lead` for the customer of each of its 1.3M assignments four
times: to open the ownership intervals, to close the old ones, to settle the customers' other
leads and to count the loads the round leaves alone. The round knows each lead's customer when
it solves (the pool is read by customer), so it now stores it beside the lead, and the commit
reads it there. Docs/scale-out.md distributes `round_assignment` by this column.

A stored customer is only as good as its check: on both tables that carry a lead and a
customer (`round_assignment`, `ownership`) the database now refuses a row whose customer is not
its lead's. On PostgreSQL that is one anti-join per statement on the pair (the lead's
reference check, as migration 0038 counts it), which also proves the customer exists (a lead's
customer is checked when the lead is written and never changes): `ownership`'s separate
customer check goes. On SQLite a row trigger compares the two; the column stays nullable there
and the trigger requires it (`app.migrations.SQLITE_TRIGGER_NOT_NULL`), as 0024 did for lead.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0039"
down_revision: str | None = "0038"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

LARGE_STATEMENT = 1000  # rows, as 0032 and 0038
PAIRED = ("round_assignment", "ownership")  # the tables whose rows name a lead and its customer

# function -> (table, small parents [(column, parent)], large parents [(column, parent)]); the
# small ones checked in the counting pass (0038), the large ones by a counted anti-join (0032).
_AS_0038 = {
    "ownership_check_references": (
        "ownership", [("branch_id", "branch")], [("lead_id", "lead"), ("customer_id", "customer")],
    ),
    "round_assignment_check_references": (
        "round_assignment", [("round_id", "allocation_round"), ("branch_id", "branch")],
        [("lead_id", "lead")],
    ),
}  # fmt: skip


def upgrade() -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    key = sa.BigInteger().with_variant(sa.Integer(), "sqlite")  # as the model's BigIntKey
    op.add_column("round_assignment", sa.Column("customer_id", key, nullable=True))
    op.execute(
        "UPDATE round_assignment SET customer_id ="
        " (SELECT l.customer_id FROM lead l WHERE l.id = round_assignment.lead_id)"
    )
    if sqlite:
        for table in PAIRED:
            for event in ("INSERT", "UPDATE"):
                op.execute(_sqlite_pair_trigger(table, event))
        return
    op.alter_column("round_assignment", "customer_id", existing_type=sa.BigInteger(),
                    nullable=False)  # fmt: skip
    for function, (table, small, _large) in _AS_0038.items():
        op.execute(_check_function(function, table, small, paired=True))


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for table in PAIRED:
            for event in ("insert", "update"):
                op.execute(f"DROP TRIGGER IF EXISTS {table}_customer_of_lead_{event}")
    else:
        for function, (table, small, _large) in _AS_0038.items():
            op.execute(_check_function(function, table, small, paired=False))
    op.drop_column("round_assignment", "customer_id")


def _sqlite_pair_trigger(table: str, event: str) -> str:
    when = "INSERT" if event == "INSERT" else "UPDATE OF lead_id, customer_id"
    return (
        f"CREATE TRIGGER {table}_customer_of_lead_{event.lower()} BEFORE {when} ON {table} "
        "WHEN NEW.customer_id IS NULL OR NEW.customer_id IS NOT "
        "(SELECT l.customer_id FROM lead l WHERE l.id = NEW.lead_id) "
        f"BEGIN SELECT RAISE(ABORT, '{table}.customer_id must be the customer of its lead'); END"
    )


def _check_function(
    function: str, table: str, small: list[tuple[str, str]], *, paired: bool
) -> str:
    """0038's function, with the lead checked together with its customer when `paired`."""
    names = [f"missing_{i}" for i in range(len(small))]
    counted = ", ".join(
        f"count(*) FILTER (WHERE n.{column} IS NOT NULL"
        f" AND n.{column} NOT IN (SELECT id FROM {parent}))"
        for column, parent in small
    )
    body = (
        f"\n    SELECT {counted}, count(*) INTO {', '.join([*names, 'written'])} FROM new_rows n;"
    )
    for name, (column, parent) in zip(names, small, strict=True):
        body += (
            f"\n    IF {name} > 0 THEN RAISE EXCEPTION {_missing(table, column, parent)}; END IF;"
        )
    large = _pair_check(table) if paired else _as_0038_large(table, _AS_0038[function][2])
    body += _by_size(large)
    declare = "".join(f"    {name} bigint;\n" for name in [*names, "written", "found"])
    return (
        f"CREATE OR REPLACE FUNCTION {function}() RETURNS trigger LANGUAGE plpgsql AS $$\n"
        f"DECLARE\n{declare}BEGIN{body}\n    RETURN NULL;\nEND $$"
    )


def _pair_check(table: str) -> list[tuple[str, str]]:
    """One anti-join on (lead, customer); only on failure a second look says which it is."""
    breaking = (
        "new_rows n WHERE NOT EXISTS (SELECT 1 FROM lead p"
        " WHERE p.id = n.lead_id AND p.customer_id = n.customer_id)"
    )
    no_lead = "new_rows n WHERE NOT EXISTS (SELECT 1 FROM lead p WHERE p.id = n.lead_id)"
    refusal = (
        f"IF EXISTS (SELECT 1 FROM {no_lead}) THEN RAISE EXCEPTION"
        f" {_missing(table, 'lead_id', 'lead')}; END IF;"
        f" RAISE EXCEPTION '{table}.customer_id is not the customer of its lead'"
        " USING ERRCODE = 'foreign_key_violation';"
    )
    return [(breaking, refusal)]


def _as_0038_large(table: str, large: list[tuple[str, str]]) -> list[tuple[str, str]]:
    return [
        (
            f"new_rows n WHERE n.{column} IS NOT NULL\n"
            f"               AND NOT EXISTS (SELECT 1 FROM {parent} p WHERE p.id = n.{column})",
            f"RAISE EXCEPTION {_missing(table, column, parent)};",
        )
        for column, parent in large
    ]


def _missing(table: str, column: str, parent: str) -> str:
    return (
        f"'{table}.{column} refers to a {parent} that does not exist'"
        " USING ERRCODE = 'foreign_key_violation'"
    )


def _by_size(checks: list[tuple[str, str]]) -> str:
    """A large statement counts the breaking rows (hash anti-joins); a small one keeps the
    cached first-row check (0032)."""
    counted = "".join(
        f"\n        EXECUTE $q$SELECT count(*) FROM {breaking}$q$ INTO found;"
        f"\n        IF found > 0 THEN {refusal} END IF;"
        for breaking, refusal in checks
    )
    first_found = "".join(
        f"\n    IF EXISTS (SELECT 1 FROM {breaking}) THEN\n        {refusal}\n    END IF;"
        for breaking, refusal in checks
    )
    return (
        f"\n    IF written >= {LARGE_STATEMENT} THEN{counted}\n    ELSE{first_found}\n    END IF;"
    )

"""the per-statement reference checks read the written rows once for the small parents (PostgreSQL)

Revision ID: 0038
Revises: 0037
Create Date: 2026-12-07

Issue 18.2. Migration 0032's checks first count the written rows (to choose a plan for their
size), then read them again once per reference. A round commit's update of 1.3M leads read
its transition table three times to check two branch columns (0.23 + 0.39 s + the returned
branch's scan, auto_explain on a copy of the bench database), and the ownership insert four
times. The parents that are small by nature, `branch` and `allocation_round`, are now
checked in the same pass as the count: `column NOT IN (SELECT id FROM parent)` is a hashed
subplan, one hash of the parent's ids per statement and one probe per written row, whatever
the statement's size. The large parents (`lead`, `customer`) keep 0032's checks: a hash of
1.3M ids does not fit in `work_mem`, so their large statements keep the counted anti-join.
The same errors are raised for the same rows (a statement that breaks a small and a large
reference at once now names the small one).
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0038"
down_revision: str | None = "0037"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

LARGE_STATEMENT = 1000  # rows, as 0032
SMALL_PARENTS = ("branch", "allocation_round")

# function -> (table named in the error, [(column, parent table)]), as 0032.
REFERENCES = {
    "lead_check_references": ("lead", [("customer_id", "customer")]),
    "lead_check_branches": ("lead", [("branch_id", "branch"), ("returned_by_branch_id", "branch")]),
    "ownership_check_references": (
        "ownership", [("lead_id", "lead"), ("customer_id", "customer"), ("branch_id", "branch")],
    ),
    "round_assignment_check_references": (
        "round_assignment",
        [("round_id", "allocation_round"), ("lead_id", "lead"), ("branch_id", "branch")],
    ),
}  # fmt: skip


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for function, (table, references) in REFERENCES.items():
        op.execute(_one_pass(function, table, references))


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for function, (table, references) in REFERENCES.items():
        op.execute(_as_0032(function, table, references))


def _one_pass(function: str, table: str, references: list[tuple[str, str]]) -> str:
    small = [(c, p) for c, p in references if p in SMALL_PARENTS]
    large = [(c, p) for c, p in references if p not in SMALL_PARENTS]
    names = [f"missing_{i}" for i in range(len(small))]
    counted = ", ".join(
        # IS NOT NULL first: NULL NOT IN (an empty table) is true.
        f"count(*) FILTER (WHERE n.{column} IS NOT NULL"
        f" AND n.{column} NOT IN (SELECT id FROM {parent}))"
        for column, parent in small
    )
    body = f"\n    SELECT {counted + ', ' if counted else ''}count(*)"
    body += f" INTO {', '.join([*names, 'written'])} FROM new_rows n;"
    for name, (column, parent) in zip(names, small, strict=True):
        body += f"\n    IF {name} > 0 THEN RAISE EXCEPTION {_error(table, column, parent)}; END IF;"
    if large:
        body += _by_size([_reference(table, column, parent) for column, parent in large])
    variables = [*names, "written", *(["found"] if large else [])]
    declare = "".join(f"    {name} bigint;\n" for name in variables)
    return _function(function, f"DECLARE\n{declare}", body)


def _as_0032(function: str, table: str, references: list[tuple[str, str]]) -> str:
    checks = [_reference(table, column, parent) for column, parent in references]
    body = f"\n    SELECT count(*) INTO written FROM new_rows;{_by_size(checks)}"
    return _function(function, "DECLARE\n    written bigint;\n    found bigint;\n", body)


def _reference(table: str, column: str, parent: str) -> tuple[str, str]:
    """(the rows that break it, the error), as 0032 wrote them."""
    breaking = (
        f"new_rows n WHERE n.{column} IS NOT NULL\n"
        f"               AND NOT EXISTS (SELECT 1 FROM {parent} p WHERE p.id = n.{column})"
    )
    return breaking, _error(table, column, parent)


def _error(table: str, column: str, parent: str) -> str:
    return (
        f"'{table}.{column} refers to a {parent} that does not exist'"
        " USING ERRCODE = 'foreign_key_violation'"
    )


def _by_size(checks: list[tuple[str, str]]) -> str:
    """A large statement counts the breaking rows (a plan for its size: hash anti-joins); a
    small one keeps the cached first-row check."""
    counted = "".join(
        f"\n        EXECUTE $q$SELECT count(*) FROM {breaking}$q$ INTO found;"
        f"\n        IF found > 0 THEN RAISE EXCEPTION {error}; END IF;"
        for breaking, error in checks
    )
    first_found = "".join(
        f"\n    IF EXISTS (SELECT 1 FROM {breaking}) THEN\n        RAISE EXCEPTION {error};"
        "\n    END IF;"
        for breaking, error in checks
    )
    return (
        f"\n    IF written >= {LARGE_STATEMENT} THEN{counted}\n    ELSE{first_found}\n    END IF;"
    )


def _function(name: str, declare: str, body: str) -> str:
    return (
        f"CREATE OR REPLACE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$\n"
        f"{declare}BEGIN{body}\n    RETURN NULL;\nEND $$"
    )

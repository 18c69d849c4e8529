"""the round tables' per-statement checks count what they look for in large writes (PostgreSQL)

Revision ID: 0032
Revises: 0031
Create Date: 2026-12-06

Issue 18.2. Migration 0030 found, for the ledger's per-statement reference checks, that
``IF EXISTS (... NOT EXISTS ...)`` is planned for a first row: one index probe of the parent
per written row, the slow way to reach the only answer a working write gets ("none
missing"). The checks of the tables a round writes are written the same way and run over
1.3M rows each in a committed round at scale: ``lead``'s customer (0024) and branches (0029)
in the import's insert and the commit's update, ``round_assignment``'s references (0005) in the
round, ``ownership``'s references (0005) and its one-owner check (0024) in the commit.

A statement of 1,000 rows or more now counts what it looks for with EXECUTE: a plan made for
its own row count (hash joins). Measured on the 1.3M bench database, inserting 1.3M closed
intervals in a rolled-back transaction: the references 6.6 s -> 2.3-2.9 s, the one-owner check
3.9-21.0 s -> 2.2-2.5 s. A smaller statement keeps the cached first-row check: planning per
statement would add about 1.3 ms to a routed intake (one lead, one interval).
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0032"
down_revision: str | None = "0031"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

LARGE_STATEMENT = 1000  # rows

# function -> (table named in the error, [(column, parent table)]); every parent key is `id`.
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
OVERLAP = "ownership_refuse_overlap"
_OVERLAPPING = """changed n JOIN ownership o
          ON o.customer_id = n.customer_id
         AND o.id <> n.id
         AND o.valid_from < COALESCE(n.valid_to, 'infinity')
         AND n.valid_from < COALESCE(o.valid_to, 'infinity')"""
_OVERLAP_ERROR = (
    "'ownership intervals of one customer may not overlap' USING ERRCODE = 'exclusion_violation'"
)


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for function, (table, references) in REFERENCES.items():
        checks = [_reference(table, column, parent) for column, parent in references]
        op.execute(_by_size(function, "new_rows", checks))
    op.execute(_by_size(OVERLAP, "changed", [(_OVERLAPPING, _OVERLAP_ERROR)]))


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for function, (table, references) in REFERENCES.items():
        checks = [_reference(table, column, parent) for column, parent in references]
        op.execute(_function(function, "", _first_found(checks)))
    op.execute(_function(OVERLAP, "", _first_found([(_OVERLAPPING, _OVERLAP_ERROR)])))


def _reference(table: str, column: str, parent: str) -> tuple[str, str]:
    """(the rows that break it, the error): as 0005, 0024 and 0029 wrote them."""
    breaking = (
        f"new_rows n WHERE n.{column} IS NOT NULL\n"
        f"               AND NOT EXISTS (SELECT 1 FROM {parent} p WHERE p.id = n.{column})"
    )
    error = (
        f"'{table}.{column} refers to a {parent} that does not exist'"
        " USING ERRCODE = 'foreign_key_violation'"
    )
    return breaking, error


def _by_size(function: str, rows: str, checks: list[tuple[str, str]]) -> str:
    counted = "".join(
        f"\n        EXECUTE $q$SELECT count(*) FROM {breaking}$q$ INTO found;"
        f"\n        IF found > 0 THEN RAISE EXCEPTION {error}; END IF;"
        for breaking, error in checks
    )
    body = (
        f"\n    SELECT count(*) INTO written FROM {rows};"
        f"\n    IF written >= {LARGE_STATEMENT} THEN{counted}"
        f"\n    ELSE{_first_found(checks)}\n    END IF;"
    )
    return _function(function, "DECLARE\n    written bigint;\n    found bigint;\n", body)


def _first_found(checks: list[tuple[str, str]]) -> str:
    return "".join(
        f"\n    IF EXISTS (SELECT 1 FROM {breaking}) THEN\n        RAISE EXCEPTION {error};"
        "\n    END IF;"
        for breaking, error in checks
    )


def _function(name: str, declare: str, body: str) -> str:
    return (
        f"CREATE OR REPLACE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$\n"
        f"{declare}BEGIN{body}\n    RETURN NULL;\nEND $$"
    )

"""the overlap guard skips its join when every other interval ended before the new ones begin

Revision ID: 0040
Revises: 0039
Create Date: 2026-12-07

Issue 18.2. A round commit opens an interval for each of up to 1.3M customers, all at the
commit's instant, and the overlap guard (migration 0032) joined them to every interval of
those customers: ~2 s of the commit (bench/RESULTS.md, session 17). When every written row
is open and no interval in the table reaches past the earliest new start (each one began
and, if closed, ended by then), a new interval can only overlap another open one of its
customer, and two open intervals of one customer are refused already, at once, by the unique
index `uq_ownership_one_open_owner` (migration 0024). One scan for the latest instant in the
table then stands in for the join. Anything else (a closed row written, an interval ending
or beginning later, a back-dated or re-opened one) takes the join as before. Small
statements keep their cached first-row check. PostgreSQL only: SQLite checks row by row.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0040"
down_revision: str | None = "0039"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

LARGE_STATEMENT = 1000  # rows, as 0032
_OVERLAPPING = """changed n JOIN ownership o
          ON o.customer_id = n.customer_id
         AND o.id <> n.id
         AND o.valid_from < COALESCE(n.valid_to, 'infinity')
         AND n.valid_from < COALESCE(o.valid_to, 'infinity')"""
_REFUSE = (
    "RAISE EXCEPTION 'ownership intervals of one customer may not overlap'"
    " USING ERRCODE = 'exclusion_violation';"
)
_JOINED = f"""
        EXECUTE $q$SELECT count(*) FROM {_OVERLAPPING}$q$ INTO found;
        IF found > 0 THEN {_REFUSE} END IF;"""
_FIRST_FOUND = f"""
        IF EXISTS (SELECT 1 FROM {_OVERLAPPING}) THEN
            {_REFUSE}
        END IF;"""
# GREATEST ignores NULL: an open interval's latest instant is its start.
_ALL_ENDED_BEFORE = """all_open AND (
            SELECT max(GREATEST(o.valid_from, o.valid_to)) FROM ownership o) <= first_start"""


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(
        _function(
            "written bigint;\n    found bigint;\n    all_open boolean;\n"
            "    first_start timestamptz;",
            "SELECT count(*), bool_and(valid_to IS NULL), min(valid_from)"
            " INTO written, all_open, first_start FROM changed;",
            f"IF written >= {LARGE_STATEMENT} THEN\n        IF {_ALL_ENDED_BEFORE} THEN"
            f"\n            RETURN NULL;\n        END IF;{_JOINED}\n    ELSE{_FIRST_FOUND}\n    END IF;",
        )
    )


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(
        _function(
            "written bigint;\n    found bigint;",
            "SELECT count(*) INTO written FROM changed;",
            f"IF written >= {LARGE_STATEMENT} THEN{_JOINED}\n    ELSE{_FIRST_FOUND}\n    END IF;",
        )
    )


def _function(declare: str, counted: str, checks: str) -> str:
    return (
        "CREATE OR REPLACE FUNCTION ownership_refuse_overlap() RETURNS trigger"
        f" LANGUAGE plpgsql AS $$\nDECLARE\n    {declare}\nBEGIN\n    {counted}\n    {checks}"
        "\n    RETURN NULL;\nEND $$"
    )

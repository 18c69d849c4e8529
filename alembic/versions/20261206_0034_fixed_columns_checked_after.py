"""a row's fixed columns (id, a lead's customer) are checked after the update, not before

Revision ID: 0034
Revises: 0033
Create Date: 2026-12-06

Issue 18.2. PostgreSQL fetches and locks every updated row for a table's BEFORE ROW UPDATE
triggers before it looks at their column lists (ExecBRUpdateTriggers, PostgreSQL 15), so the
guards "an id never changes" (0005) and "a lead keeps its customer" (0024) made every update of
a lead lock the row first: one more WAL record and page write per lead. A round commit updates
1.3M leads, none of them in those columns: 13.7-14.8 s against 15.0-16.5 s with the guards
before (bench/RESULTS.md). As AFTER ROW triggers with the same column lists and conditions they
refuse the same changes (the statement fails and rolls back) and cost an update of other
columns nothing. SQLite keeps its BEFORE triggers (no row locks there).
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0034"
down_revision: str | None = "0033"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

NEVER_RENUMBERED = ("lead", "customer", "branch", "allocation_round")


def upgrade() -> None:
    _recreate(when="AFTER")


def downgrade() -> None:
    _recreate(when="BEFORE")


def _recreate(*, when: str) -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for table in NEVER_RENUMBERED:
        op.execute(f"DROP TRIGGER {table}_id_fixed ON {table}")
        op.execute(
            f"CREATE TRIGGER {table}_id_fixed {when} UPDATE OF id ON {table} FOR EACH ROW "
            "WHEN (OLD.id IS DISTINCT FROM NEW.id) EXECUTE FUNCTION refuse_history_change()"
        )
    op.execute("DROP TRIGGER lead_customer_fixed ON lead")
    op.execute(
        f"CREATE TRIGGER lead_customer_fixed {when} UPDATE OF customer_id ON lead FOR EACH ROW "
        "WHEN (OLD.customer_id IS DISTINCT FROM NEW.customer_id) "
        "EXECUTE FUNCTION lead_refuse_customer_change()"
    )

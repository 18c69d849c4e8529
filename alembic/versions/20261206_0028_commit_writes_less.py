"""a round commit writes less: no ownership index by lead, no placement delete for pool leads

Revision ID: 0028
Revises: 0026
Create Date: 2026-12-06

A 1.3M-lead commit inserts 1.3M ownership intervals; each went into four indexes. Since every
lead has a customer (0024) an interval is found by its customer, and nothing looks one up by
lead any more, so the index on (lead_id, valid_from) goes (the reference to `lead` is checked
per statement, and leads are never deleted).

The placement trigger (0025) joined the old and new rows of every update, twice, to find
the moved placements; a commit's assignments come from the pool, where no lead has a
placement. When no old row had a branch there is nothing to delete and every new row with a
branch has moved, so both joins are skipped: the new rows are written as they are.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0028"
down_revision: str | None = "0026"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

COLUMNS = "lead_id, branch_id, status, acquired_at, customer_id"
_MOVED = (
    "(n.branch_id, n.status, n.acquired_at) IS DISTINCT FROM (o.branch_id, o.status, o.acquired_at)"
)
_DELETE_MOVED = (
    "DELETE FROM lead_placement p USING new_rows n JOIN old_rows o ON o.id = n.id"
    f" WHERE p.lead_id = n.id AND o.branch_id IS NOT NULL AND {_MOVED}"
)
_INSERT_NEW = (
    f"INSERT INTO lead_placement ({COLUMNS})"
    " SELECT id, branch_id, status, acquired_at, customer_id FROM new_rows"
    " WHERE branch_id IS NOT NULL ORDER BY branch_id, acquired_at, id"
)
_INSERT_MOVED = (
    f"INSERT INTO lead_placement ({COLUMNS})"
    " SELECT n.id, n.branch_id, n.status, n.acquired_at, n.customer_id"
    " FROM new_rows n JOIN old_rows o ON o.id = n.id"
    f" WHERE {_MOVED} AND n.branch_id IS NOT NULL ORDER BY n.branch_id, n.acquired_at, n.id"
)


def _function(guarded: bool) -> str:
    body = f"EXECUTE $q$ {_DELETE_MOVED} $q$; EXECUTE $q$ {_INSERT_MOVED} $q$;"
    if guarded:
        body = (
            f"IF EXISTS (SELECT 1 FROM old_rows WHERE branch_id IS NOT NULL) THEN {body}"
            f" ELSE EXECUTE $q$ {_INSERT_NEW} $q$; END IF;"
        )
    return (
        "CREATE OR REPLACE FUNCTION lead_placement_updated() RETURNS trigger LANGUAGE plpgsql AS"
        f" $$ BEGIN {body} RETURN NULL; END $$"
    )


def upgrade() -> None:
    op.drop_index("ix_ownership_lead_valid_from", table_name="ownership")
    if op.get_bind().dialect.name == "postgresql":
        op.execute(_function(guarded=True))


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(_function(guarded=False))
    op.create_index("ix_ownership_lead_valid_from", "ownership", ["lead_id", "valid_from"])

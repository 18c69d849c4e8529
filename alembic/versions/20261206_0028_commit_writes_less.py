"""a round commit writes less: no ownership index by lead, no placement delete for pool leads

Revision ID: 0028
Revises: 0026
Create Date: 2026-12-06

A 1.3M-lead commit inserts 1.3M ownership intervals; each went into four indexes. Since every
lead has a customer (0024) an interval is found by its customer, and nothing looks one up by
lead any more, so the index on (lead_id, valid_from) goes (the reference to `lead` is checked
per statement, and leads are never deleted).

The placement trigger (0025) joined the old and new rows of every update to delete moved
placements; a commit's assignments come from the pool, where no lead has a placement, so the
join is skipped when no old row had a branch.
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
_INSERT_MOVED = (
    f"INSERT INTO lead_placement ({COLUMNS})"
    " SELECT n.id, n.branch_id, n.status, n.acquired_at, n.customer_id"
    " FROM new_rows n JOIN old_rows o ON o.id = n.id"
    f" WHERE {_MOVED} AND n.branch_id IS NOT NULL ORDER BY n.branch_id, n.acquired_at, n.id"
)


def _function(guarded: bool) -> str:
    delete = f"EXECUTE $q$ {_DELETE_MOVED} $q$;"
    if guarded:
        delete = (
            f"IF EXISTS (SELECT 1 FROM old_rows WHERE branch_id IS NOT NULL) THEN {delete} END IF;"
        )
    return (
        "CREATE OR REPLACE FUNCTION lead_placement_updated() RETURNS trigger LANGUAGE plpgsql AS"
        f" $$ BEGIN {delete} EXECUTE $q$ {_INSERT_MOVED} $q$; RETURN NULL; END $$"
    )


def upgrade() -> None:
    op.drop_index("ix_ownership_lead_valid_from", table_name="ownership")
    if op.get_bind().dialect.name == "postgresql":
        op.execute(_function(guarded=True))


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(_function(guarded=False))
    op.create_index("ix_ownership_lead_valid_from", "ownership", ["lead_id", "valid_from"])

"""lead_placement is keyed by (branch, lead): one index fewer on every placement written

Revision ID: 0035
Revises: 0034
Create Date: 2026-12-06

Issue 18.2. A placement row carried four indexes: its key (lead_id) and the three list
indexes, one of them (branch_id, lead_id). Every read finds placements by branch, and the
only lookup by lead is the placement trigger's, which also knows the lead's old branch. So
(branch_id, lead_id) becomes the key and the index on lead_id alone goes: a round commit's
1.3M placements, written in list order, go in in 5.0 s instead of 8.8-10.6 s (the lead_id
key took them in random order; bench/RESULTS.md). One placement per lead stays the
triggers' rule (they are its only writers): a lead's old placement is deleted by its old
branch and lead id, then the new one inserted.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0035"
down_revision: str | None = "0034"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

COLUMNS = "lead_id, branch_id, status, acquired_at, customer_id"
_MOVED = (
    "(n.branch_id, n.status, n.acquired_at) IS DISTINCT FROM (o.branch_id, o.status, o.acquired_at)"
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
_SQLITE_ROW = "SELECT NEW.id, NEW.branch_id, NEW.status, NEW.acquired_at, NEW.customer_id"


def upgrade() -> None:
    _rekey(key=("branch_id", "lead_id"), by_branch=True)


def downgrade() -> None:
    _rekey(key=("lead_id",), by_branch=False)


def _rekey(*, key: tuple[str, ...], by_branch: bool) -> None:
    """The placement's key, its index by (branch, lead) when the key is not that, and the
    update trigger's delete to match."""
    if op.get_bind().dialect.name == "sqlite":
        _sqlite_rekey(key, by_branch=by_branch)
        return
    op.execute("ALTER TABLE lead_placement DROP CONSTRAINT pk_lead_placement")
    if by_branch:
        op.drop_index("ix_lead_placement_branch_lead", table_name="lead_placement")
    else:
        op.create_index("ix_lead_placement_branch_lead", "lead_placement", ["branch_id", "lead_id"])
    op.create_primary_key("pk_lead_placement", "lead_placement", list(key))
    op.execute(_pg_updated_function(by_branch))


def _pg_updated_function(by_branch: bool) -> str:
    old_branch = " AND p.branch_id = o.branch_id" if by_branch else ""
    delete = (
        "DELETE FROM lead_placement p USING new_rows n JOIN old_rows o ON o.id = n.id"
        f" WHERE p.lead_id = n.id{old_branch} AND o.branch_id IS NOT NULL AND {_MOVED}"
    )
    # As migration 0028: a statement that moves no placed lead (a commit's leads all come
    # from the pool) writes its new rows without the two joins.
    body = (
        "IF EXISTS (SELECT 1 FROM old_rows WHERE branch_id IS NOT NULL) THEN"
        f" EXECUTE $q$ {delete} $q$; EXECUTE $q$ {_INSERT_MOVED} $q$;"
        f" ELSE EXECUTE $q$ {_INSERT_NEW} $q$; END IF;"
    )
    return (
        "CREATE OR REPLACE FUNCTION lead_placement_updated() RETURNS trigger LANGUAGE plpgsql AS"
        f" $$ BEGIN {body} RETURN NULL; END $$"
    )


def _sqlite_rekey(key: tuple[str, ...], *, by_branch: bool) -> None:
    # The table is rebuilt; the triggers on `lead` that name it go first and come back, the
    # update's delete using the new key.
    op.execute("DROP TRIGGER IF EXISTS lead_placement_insert")
    op.execute("DROP TRIGGER IF EXISTS lead_placement_update")
    with op.batch_alter_table("lead_placement", recreate="always") as batch:
        batch.drop_constraint("pk_lead_placement", type_="primary")
        batch.create_primary_key("pk_lead_placement", list(key))
        if by_branch:
            batch.drop_index("ix_lead_placement_branch_lead")
        else:
            batch.create_index("ix_lead_placement_branch_lead", ["branch_id", "lead_id"])
    op.execute(
        "CREATE TRIGGER lead_placement_insert AFTER INSERT ON lead WHEN NEW.branch_id IS NOT NULL "
        f"BEGIN INSERT INTO lead_placement ({COLUMNS}) {_SQLITE_ROW}; END"
    )
    old_branch = "branch_id = OLD.branch_id AND " if by_branch else ""
    op.execute(
        "CREATE TRIGGER lead_placement_update AFTER UPDATE OF branch_id, status, acquired_at "
        f"ON lead BEGIN DELETE FROM lead_placement WHERE {old_branch}lead_id = OLD.id; "
        f"INSERT INTO lead_placement ({COLUMNS}) {_SQLITE_ROW} WHERE NEW.branch_id IS NOT NULL; "
        "END"
    )

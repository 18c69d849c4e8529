"""lead_placement: what is read by branch moves off the wide lead row (issue 18.2)

Revision ID: 0025
Revises: 0024
Create Date: 2026-12-06

A round commit gives 1.3M leads a branch and a status. With the three branch-keyed list
indexes on ``lead``, each of those row versions added an entry to all seven of its indexes, in
random order: 58-63 s of the commit (bench/RESULTS.md, issue 18.2). Without an index on a column
the commit changes, and with room on each page for a second version of every row
(fillfactor 50), PostgreSQL rewrites the rows in place (HOT): 8 s for the same update.

So the list indexes move to ``lead_placement``, one narrow row per lead that has a branch,
kept by the database from every write to ``lead`` (no application path can forget it): on
PostgreSQL statement-level triggers over the transition tables, writing the changed leads'
rows in the order of the list indexes (13 s for 1.3M rows, against 29 s unordered); on SQLite
row triggers. The fillfactor applies to pages written from now on; ``VACUUM FULL lead`` in a
quiet hour gives an existing table the room at once.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0025"
down_revision: str | None = "0024"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

COLUMNS = "lead_id, branch_id, status, acquired_at, customer_id"
LIST_INDEXES = {
    "status_acquired": ("branch_id", "status", "acquired_at"),
    "acquired": ("branch_id", "acquired_at", "id"),
    "id": ("branch_id", "id"),
}
_PLACED = "SELECT {p}id, {p}branch_id, {p}status, {p}acquired_at, {p}customer_id"
_ORDER = "ORDER BY {p}branch_id, {p}acquired_at, {p}id"  # the list indexes' order: appends
# A lead's placement changed (its customer never does: migration 0005).
_MOVED = (
    "(n.branch_id, n.status, n.acquired_at) IS DISTINCT FROM (o.branch_id, o.status, o.acquired_at)"
)

# EXECUTE plans each statement at each firing. A static statement would be planned once per
# session, at its first firing: a commit's first UPDATE of lead changes no rows, and a plan
# made for empty transition tables (nested loops) then served the 1.3M-row one: quadratic.
_PG_FUNCTIONS = f"""
CREATE FUNCTION lead_placement_inserted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE $q$ INSERT INTO lead_placement ({COLUMNS})
    {_PLACED.format(p="")} FROM new_rows WHERE branch_id IS NOT NULL {_ORDER.format(p="")} $q$;
    RETURN NULL;
END $$;
CREATE FUNCTION lead_placement_updated() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE $q$ DELETE FROM lead_placement p USING new_rows n JOIN old_rows o ON o.id = n.id
    WHERE p.lead_id = n.id AND o.branch_id IS NOT NULL AND {_MOVED} $q$;
    EXECUTE $q$ INSERT INTO lead_placement ({COLUMNS})
    {_PLACED.format(p="n.")} FROM new_rows n JOIN old_rows o ON o.id = n.id
    WHERE {_MOVED} AND n.branch_id IS NOT NULL {_ORDER.format(p="n.")} $q$;
    RETURN NULL;
END $$;
"""
_PG_TRIGGERS = (
    "CREATE TRIGGER lead_placement_insert AFTER INSERT ON lead REFERENCING NEW TABLE AS "
    "new_rows FOR EACH STATEMENT EXECUTE FUNCTION lead_placement_inserted()",
    "CREATE TRIGGER lead_placement_update AFTER UPDATE ON lead REFERENCING OLD TABLE AS "
    "old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION lead_placement_updated()",
)
_SQLITE_ROW = "SELECT NEW.id, NEW.branch_id, NEW.status, NEW.acquired_at, NEW.customer_id"
_SQLITE_TRIGGERS = (
    f"CREATE TRIGGER lead_placement_insert AFTER INSERT ON lead WHEN NEW.branch_id IS NOT NULL "
    f"BEGIN INSERT INTO lead_placement ({COLUMNS}) {_SQLITE_ROW}; END",
    "CREATE TRIGGER lead_placement_update AFTER UPDATE OF branch_id, status, acquired_at ON lead "
    "BEGIN DELETE FROM lead_placement WHERE lead_id = OLD.id; "
    f"INSERT INTO lead_placement ({COLUMNS}) {_SQLITE_ROW} WHERE NEW.branch_id IS NOT NULL; END",
)


def upgrade() -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    op.create_table(
        "lead_placement",
        sa.Column(
            "lead_id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=False,
            nullable=False,
        ),
        sa.Column("branch_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("acquired_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "customer_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.PrimaryKeyConstraint("lead_id", name=op.f("pk_lead_placement")),
    )
    op.execute(
        f"INSERT INTO lead_placement ({COLUMNS}) {_PLACED.format(p='')} FROM lead "
        f"WHERE branch_id IS NOT NULL {_ORDER.format(p='')}"
    )
    for name, columns in LIST_INDEXES.items():
        placed = [c if c != "id" else "lead_id" for c in columns]
        op.create_index(_placement_index(name), "lead_placement", placed)
        op.drop_index(_lead_index(name), table_name="lead")
    if sqlite:
        for statement in _SQLITE_TRIGGERS:
            op.execute(statement)
        return
    op.execute(_PG_FUNCTIONS)
    for statement in _PG_TRIGGERS:
        op.execute(statement)
    op.execute("ALTER TABLE lead SET (fillfactor = 50)")


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for trigger in ("lead_placement_insert", "lead_placement_update"):
            op.execute(f"DROP TRIGGER IF EXISTS {trigger}")
    else:
        op.execute("ALTER TABLE lead RESET (fillfactor)")
        for trigger in ("lead_placement_insert", "lead_placement_update"):
            op.execute(f"DROP TRIGGER IF EXISTS {trigger} ON lead")
        op.execute("DROP FUNCTION IF EXISTS lead_placement_inserted()")
        op.execute("DROP FUNCTION IF EXISTS lead_placement_updated()")
    for name, columns in LIST_INDEXES.items():
        op.create_index(_lead_index(name), "lead", list(columns))
    op.drop_table("lead_placement")


def _lead_index(name: str) -> str:
    return {"status_acquired": "ix_lead_branch_status_acquired",
            "acquired": "ix_lead_branch_acquired", "id": "ix_lead_branch_id"}[name]  # fmt: skip


def _placement_index(name: str) -> str:
    return {"status_acquired": "ix_lead_placement_branch_status_acquired",
            "acquired": "ix_lead_placement_branch_acquired",
            "id": "ix_lead_placement_branch_lead"}[name]  # fmt: skip

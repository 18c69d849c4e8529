"""branch load rises: with migration 0022's falls, a stored count is exact until either

Revision ID: 0026
Revises: 0022
Create Date: 2026-12-06

Routing counted the branch it placed a customer into, every time: 26-28 ms of a 80 ms intake at
1.3M leads (bench/RESULTS.md, issue 16.1). A count stored in `branch_load_seen` is the load
exactly while the database has recorded neither a fall (`branch_load_drop`, 0022) nor a rise of
it (`branch_load_rise`, here), so routing counts a branch only after someone else touched it.

A load may rise when a lead is written in follow-up at a branch (inserted or updated: every
update of such a lead is recorded, which over-approximates and only costs a recount), or when a
lead stops being converted (its customer's other leads count again, wherever they are held).
A statement records each branch once. Rows are removed when routing counts the branch, and a
round commit keeps one per branch (`load_floor.compact`). `txid` is the writing transaction on
PostgreSQL: routing removes the rise its own placement recorded, and only that. (No writer may
skip a rise because one is recorded already: routing may be removing that one, uncommitted.
SQLite has one writer at a time, so there its row triggers do skip, and a commit's 1.3M
assignments write one row per branch, not one per lead.)
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0026"
down_revision: str | None = "0022"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

FOLLOW_UP = "('assigned', 'contacted')"
_UNRECORDED = "NOT EXISTS (SELECT 1 FROM branch_load_rise r WHERE r.branch_id = {branch})"
_ROWS_IN_FOLLOW_UP = (
    "INSERT INTO branch_load_rise (branch_id) SELECT DISTINCT n.branch_id FROM new_rows n"
    f" WHERE n.branch_id IS NOT NULL AND n.status IN {FOLLOW_UP}"
)
LEAVES_CONVERTED = "OLD.status = 'converted' AND NEW.status <> 'converted'"
_CUSTOMERS_BRANCHES = (
    "INSERT INTO branch_load_rise (branch_id) SELECT DISTINCT l.branch_id FROM lead l"
    f" WHERE l.customer_id = NEW.customer_id AND l.status IN {FOLLOW_UP}"
    " AND l.branch_id IS NOT NULL"
)
# EXECUTE plans the statement at each firing (migration 0025: a plan made for an empty
# transition table must not serve a commit's 1.3M rows).
_PG_FUNCTIONS = f"""
CREATE FUNCTION lead_load_rises() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE $q$ {_ROWS_IN_FOLLOW_UP} $q$;
    RETURN NULL;
END $$;
CREATE FUNCTION lead_leaves_converted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    {_CUSTOMERS_BRANCHES};
    RETURN NULL;
END $$;
"""
_PG_TRIGGERS = (
    "CREATE TRIGGER lead_load_rises_insert AFTER INSERT ON lead REFERENCING NEW TABLE AS "
    "new_rows FOR EACH STATEMENT EXECUTE FUNCTION lead_load_rises()",
    "CREATE TRIGGER lead_load_rises_update AFTER UPDATE ON lead REFERENCING NEW TABLE AS "
    "new_rows FOR EACH STATEMENT EXECUTE FUNCTION lead_load_rises()",
    f"CREATE TRIGGER lead_leaves_converted AFTER UPDATE OF status ON lead FOR EACH ROW "
    f"WHEN ({LEAVES_CONVERTED}) EXECUTE FUNCTION lead_leaves_converted()",
)
_SQLITE_IN_FOLLOW_UP = f"NEW.branch_id IS NOT NULL AND NEW.status IN {FOLLOW_UP}"
_SQLITE_ROW = (
    "INSERT INTO branch_load_rise (branch_id) SELECT NEW.branch_id"
    f" WHERE {_UNRECORDED.format(branch='NEW.branch_id')}"
)
_SQLITE_TRIGGERS = (
    f"CREATE TRIGGER lead_load_rises_insert AFTER INSERT ON lead WHEN {_SQLITE_IN_FOLLOW_UP} "
    f"BEGIN {_SQLITE_ROW}; END",
    f"CREATE TRIGGER lead_load_rises_update AFTER UPDATE ON lead WHEN {_SQLITE_IN_FOLLOW_UP} "
    f"BEGIN {_SQLITE_ROW}; END",
    f"CREATE TRIGGER lead_leaves_converted AFTER UPDATE OF status ON lead "
    f"WHEN {LEAVES_CONVERTED} BEGIN {_CUSTOMERS_BRANCHES}"
    f" AND {_UNRECORDED.format(branch='l.branch_id')}; END",
)
TRIGGERS = ("lead_load_rises_insert", "lead_load_rises_update", "lead_leaves_converted")


def upgrade() -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    op.create_table(
        "branch_load_rise",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("branch_id", sa.Integer(), nullable=False),
        sa.Column(
            "txid",
            sa.BigInteger(),
            nullable=True,
            server_default=None if sqlite else sa.text("txid_current()"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_branch_load_rise")),
    )
    op.create_index("ix_branch_load_rise_branch_id", "branch_load_rise", ["branch_id"])
    # Every stored count predates this table: none may be taken for exact.
    op.execute("INSERT INTO branch_load_rise (branch_id) SELECT branch_id FROM branch_load_seen")
    if sqlite:
        for statement in _SQLITE_TRIGGERS:
            op.execute(statement)
        return
    op.execute(_PG_FUNCTIONS)
    for statement in _PG_TRIGGERS:
        op.execute(statement)


def downgrade() -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    for name in TRIGGERS:
        op.execute(f"DROP TRIGGER IF EXISTS {name}" + ("" if sqlite else " ON lead"))
    if not sqlite:
        op.execute("DROP FUNCTION IF EXISTS lead_load_rises()")
        op.execute("DROP FUNCTION IF EXISTS lead_leaves_converted()")
    op.drop_index("ix_branch_load_rise_branch_id", table_name="branch_load_rise")
    op.drop_table("branch_load_rise")

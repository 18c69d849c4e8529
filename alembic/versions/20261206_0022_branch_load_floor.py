"""branch load floors: what routing has counted, and the triggers that record a fall

Revision ID: 0022
Revises: 0023
Create Date: 2026-12-06

Routing skips full branches without counting them (app/ownership/load_floor.py): an exact count
it stored stays a lower bound of a branch's load until the load may have fallen, and the
database records every such event here, whoever writes the lead:
- a lead leaves follow-up at a branch (status away from assigned/contacted, or another branch);
- a lead of a customer becomes converted (its customer's follow-up branches, wherever they are).
Row triggers with a WHEN clause: a round commit's 1.3M assignments (pool -> assigned) match no
WHEN and queue nothing. (No index on `lead` here: a column a commit changes must stay
unindexed there, migration 0025; the exact count reads `lead_placement`.)
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0022"
down_revision: str | None = "0023"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

FOLLOW_UP = "('assigned', 'contacted')"
LEAVES_FOLLOW_UP = (
    f"OLD.status IN {FOLLOW_UP} AND OLD.branch_id IS NOT NULL"
    f" AND (NEW.status NOT IN {FOLLOW_UP} OR NEW.branch_id IS DISTINCT FROM OLD.branch_id)"
)
BECOMES_CONVERTED = "NEW.status = 'converted' AND NEW.customer_id IS NOT NULL"
CUSTOMERS_BRANCHES = (
    "SELECT DISTINCT l.branch_id FROM lead l WHERE l.customer_id = NEW.customer_id"
    f" AND l.status IN {FOLLOW_UP} AND l.branch_id IS NOT NULL"
)
# (trigger, event, WHEN, what it records)
TRIGGERS = (
    ("lead_leaves_follow_up", "UPDATE OF status, branch_id", LEAVES_FOLLOW_UP,
     "VALUES (OLD.branch_id)"),
    ("lead_becomes_converted", "UPDATE OF status",
     f"{BECOMES_CONVERTED} AND OLD.status <> 'converted'", CUSTOMERS_BRANCHES),
    ("lead_inserted_converted", "INSERT", BECOMES_CONVERTED, CUSTOMERS_BRANCHES),
)  # fmt: skip


def upgrade() -> None:
    op.create_table(
        "branch_load_seen",
        sa.Column("branch_id", sa.Integer(), nullable=False),
        sa.Column("customers", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["branch_id"], ["branch.id"], name=op.f("fk_branch_load_seen_branch_id_branch")
        ),
        sa.PrimaryKeyConstraint("branch_id", name=op.f("pk_branch_load_seen")),
    )
    op.create_table(
        "branch_load_drop",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("branch_id", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_branch_load_drop")),
    )
    op.create_index("ix_branch_load_drop_branch_id", "branch_load_drop", ["branch_id"])
    sqlite = op.get_bind().dialect.name == "sqlite"
    for name, event, when, rows in TRIGGERS:
        (_create_sqlite if sqlite else _create_postgres)(name, event, when, rows)


def downgrade() -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    for name, *_ in TRIGGERS:
        if sqlite:
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
        else:
            op.execute(f"DROP TRIGGER IF EXISTS {name} ON lead")
            op.execute(f"DROP FUNCTION IF EXISTS {name}()")
    op.drop_index("ix_branch_load_drop_branch_id", table_name="branch_load_drop")
    op.drop_table("branch_load_drop")
    op.drop_table("branch_load_seen")


def _create_postgres(name: str, event: str, when: str, rows: str) -> None:
    op.execute(
        f"CREATE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
        f"INSERT INTO branch_load_drop (branch_id) {rows}; RETURN NULL; END $$"
    )
    op.execute(
        f"CREATE TRIGGER {name} AFTER {event} ON lead FOR EACH ROW WHEN ({when}) "
        f"EXECUTE FUNCTION {name}()"
    )


def _create_sqlite(name: str, event: str, when: str, rows: str) -> None:
    when = when.replace("IS DISTINCT FROM", "IS NOT")
    op.execute(
        f"CREATE TRIGGER {name} AFTER {event} ON lead FOR EACH ROW WHEN {when} "
        f"BEGIN INSERT INTO branch_load_drop (branch_id) {rows}; END"
    )

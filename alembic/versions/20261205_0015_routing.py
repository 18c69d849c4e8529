"""routing between rounds: round_branch_price, routing_switch, ownership opened_by 'routed'

Revision ID: 0015
Revises: 0017
Create Date: 2026-12-05

A new lead is routed at once at the last committed round's branch prices (issue 16.2): the
prices are stored when a round is solved, HQ's switch is one row (on by default), and an
interval opened by routing says so (`opened_by = 'routed'`, `round_id` = the round priced by).

SQLite cannot alter a CHECK constraint: the ownership table is rebuilt, which drops the overlap
triggers and the owner-key expression index of migration 0001; they are created again here,
both ways. PostgreSQL swaps the constraint in place.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015"
down_revision: str | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

CHECK = "opened_by_known"
WITH_ROUTED = "opened_by IN ('round', 'transfer', 'linked', 'routed')"
WITHOUT_ROUTED = "opened_by IN ('round', 'transfer', 'linked')"
# Migration 0001's SQLite guards, word for word (a rebuild of the table drops them).
_OWNER_KEY = "COALESCE(customer_id, -lead_id)"
_SQLITE_OVERLAP = """
    SELECT RAISE(ABORT, 'ownership intervals of one customer may not overlap')
    WHERE EXISTS (
        SELECT 1 FROM ownership o
        WHERE COALESCE(o.customer_id, -o.lead_id) = COALESCE(NEW.customer_id, -NEW.lead_id)
          AND o.id IS NOT NEW.id
          AND (o.valid_to IS NULL OR o.valid_to > NEW.valid_from)
          AND (NEW.valid_to IS NULL OR NEW.valid_to > o.valid_from)
    );
"""


def upgrade() -> None:
    op.create_table(
        "round_branch_price",
        sa.Column("round_id", sa.Integer(), nullable=False),
        sa.Column("branch_id", sa.Integer(), nullable=False),
        sa.Column("price_km", sa.Float(), nullable=True),
        sa.ForeignKeyConstraint(
            ["branch_id"], ["branch.id"], name=op.f("fk_round_branch_price_branch_id_branch")
        ),
        sa.ForeignKeyConstraint(
            ["round_id"],
            ["allocation_round.id"],
            name=op.f("fk_round_branch_price_round_id_allocation_round"),
        ),
        sa.PrimaryKeyConstraint("round_id", "branch_id", name=op.f("pk_round_branch_price")),
    )
    switch = op.create_table(
        "routing_switch",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("changed_by", sa.String(length=64), nullable=True),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_routing_switch")),
    )
    op.bulk_insert(switch, [{"id": 1, "enabled": True}])
    _replace_check(WITH_ROUTED)


def downgrade() -> None:
    # Without 'routed', an interval routed at round N's prices reads as opened by round N.
    op.execute("UPDATE ownership SET opened_by = 'round' WHERE opened_by = 'routed'")
    _replace_check(WITHOUT_ROUTED)
    op.drop_table("routing_switch")
    op.drop_table("round_branch_price")


def _replace_check(condition: str) -> None:
    if op.get_bind().dialect.name != "sqlite":
        op.drop_constraint(op.f(f"ck_ownership_{CHECK}"), "ownership", type_="check")
        op.create_check_constraint(op.f(f"ck_ownership_{CHECK}"), "ownership", condition)
        return
    _drop_sqlite_guards()
    with op.batch_alter_table("ownership", recreate="always") as batch_op:
        batch_op.drop_constraint(op.f(f"ck_ownership_{CHECK}"), type_="check")
        batch_op.create_check_constraint(op.f(f"ck_ownership_{CHECK}"), condition)
    _create_sqlite_guards()


def _drop_sqlite_guards() -> None:
    for event in ("insert", "update"):
        op.execute(f"DROP TRIGGER IF EXISTS ownership_no_overlap_{event}")
    op.execute("DROP INDEX IF EXISTS ix_ownership_owner_key")


def _create_sqlite_guards() -> None:
    op.execute(f"CREATE INDEX ix_ownership_owner_key ON ownership ({_OWNER_KEY}, valid_from)")
    for event in ("INSERT", "UPDATE"):
        op.execute(
            f"CREATE TRIGGER ownership_no_overlap_{event.lower()} BEFORE {event} ON ownership "
            f"BEGIN {_SQLITE_OVERLAP} END"
        )

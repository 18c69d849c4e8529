"""ledger: split policies stored in the database

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-26

The table comes from ``app/tables/policy.py``. Policies are append-only like the rest of the
ledger: a new version supersedes the previous one from its ``valid_from``, so UPDATE and
DELETE (and TRUNCATE on PostgreSQL) are refused by triggers that autogenerate cannot see.
On PostgreSQL they reuse ``ledger_refuse_change()`` from migration 0002.
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLE = "ledger_split_policy"


def upgrade() -> None:
    op.create_table(
        TABLE,
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("policy_id", sqlmodel.sql.sqltypes.AutoString(length=128), nullable=False),
        sa.Column("revenue_type", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("valid_from", sa.DateTime(timezone=True), nullable=False),
        sa.Column("branch_bps", sa.Integer(), nullable=False),
        sa.Column("hq_online_bps", sa.Integer(), nullable=False),
        sa.Column("overlay_bps", sa.Integer(), nullable=False),
        sa.Column("reason", sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
        sa.Column("created_by", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "revenue_type IN ('brokerage_commission', 'product_fee', 'margin_interest', 'advisory_fee', 'other')",
            name=op.f("ck_ledger_split_policy_type_known"),
        ),
        sa.CheckConstraint(
            "branch_bps >= 0 AND hq_online_bps >= 0",
            name=op.f("ck_ledger_split_policy_shares_non_negative"),
        ),
        sa.CheckConstraint(
            "branch_bps + hq_online_bps = 10000",
            name=op.f("ck_ledger_split_policy_shares_total_10000"),
        ),
        sa.CheckConstraint(
            "overlay_bps >= 0", name=op.f("ck_ledger_split_policy_overlay_non_negative")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ledger_split_policy")),
        sa.UniqueConstraint("policy_id", name=op.f("uq_ledger_split_policy_policy_id")),
        sa.UniqueConstraint(
            "revenue_type",
            "valid_from",
            name=op.f("uq_ledger_split_policy_revenue_type_valid_from"),
        ),
    )
    for statement in _sqlite_triggers() if _is_sqlite() else _postgres_triggers():
        op.execute(statement)


def downgrade() -> None:
    if _is_sqlite():
        op.execute(f"DROP TRIGGER IF EXISTS {TABLE}_no_update")
        op.execute(f"DROP TRIGGER IF EXISTS {TABLE}_no_delete")
    else:
        op.execute(f"DROP TRIGGER IF EXISTS {TABLE}_append_only ON {TABLE}")
    op.drop_table(TABLE)


def _is_sqlite() -> bool:
    return op.get_bind().dialect.name == "sqlite"


def _sqlite_triggers() -> list[str]:
    refuse = "BEGIN SELECT RAISE(ABORT, 'ledger: {table} is append-only ({verb} refused)'); END"
    return [
        f"CREATE TRIGGER {TABLE}_{name} BEFORE {verb} ON {TABLE} "
        + refuse.format(table=TABLE, verb=verb)
        for name, verb in (("no_update", "UPDATE"), ("no_delete", "DELETE"))
    ]


def _postgres_triggers() -> list[str]:
    return [
        f"""CREATE TRIGGER {TABLE}_append_only BEFORE UPDATE OR DELETE OR TRUNCATE
        ON {TABLE} FOR EACH STATEMENT EXECUTE FUNCTION ledger_refuse_change()"""
    ]

"""ledger_correction_request: corrections above a threshold wait for a second finance user;
ix_journal_posting_suspense: the suspense workbench's list without a scan of every posting

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-05

A reversal or reclassification moving more than O2O_CORRECTION_APPROVAL_FEN is stored as a
pending request and posted when another finance user approves it; the CHECK ``four_eyes``
refuses a decision by the requester and a partial unique index keeps one pending request per
correction. The suspense index is partial (suspense postings are few), like the branch one
of migration 0008, so that the write path of ordinary credits does not pay for it.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLE = "ledger_correction_request"
PENDING = "status = 'pending'"
SUSPENSE_INDEX = "ix_journal_posting_suspense"  # app.migrations.HAND_MANAGED_INDEXES
SUSPENSE = "account = 'suspense:unowned'"  # the workbench's query repeats it word for word


def upgrade() -> None:
    op.create_table(
        TABLE,
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("target", sa.String(128), nullable=False),
        sa.Column("branch_code", sa.String(32), nullable=True),
        sa.Column("amount_fen", sa.BigInteger(), nullable=False),
        sa.Column("reason", sa.String(200), nullable=False),
        sa.Column("requested_by", sa.String(64), nullable=False),
        sa.Column("requested_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("decided_by", sa.String(64), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("entry_id", sa.BigInteger(), nullable=True),
        sa.CheckConstraint(
            "kind IN ('reverse', 'reclassify')",
            name=op.f("ck_ledger_correction_request_kind_known"),
        ),
        sa.CheckConstraint(
            "status IN ('pending', 'approved', 'rejected')",
            name=op.f("ck_ledger_correction_request_status_known"),
        ),
        sa.CheckConstraint(
            "(kind = 'reclassify') = (branch_code IS NOT NULL)",
            name=op.f("ck_ledger_correction_request_branch_named"),
        ),
        sa.CheckConstraint(
            "amount_fen > 0", name=op.f("ck_ledger_correction_request_amount_positive")
        ),
        sa.CheckConstraint(
            "(status = 'pending') = (decided_by IS NULL)",
            name=op.f("ck_ledger_correction_request_decided_when_done"),
        ),
        sa.CheckConstraint(
            "(status = 'approved') = (entry_id IS NOT NULL)",
            name=op.f("ck_ledger_correction_request_approved_posts"),
        ),
        sa.CheckConstraint(
            "decided_by <> requested_by", name=op.f("ck_ledger_correction_request_four_eyes")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ledger_correction_request")),
    )
    op.create_index(
        "uq_ledger_correction_request_pending", TABLE, ["kind", "target"], unique=True,
        sqlite_where=sa.text(PENDING), postgresql_where=sa.text(PENDING),
    )  # fmt: skip
    op.execute(f"CREATE INDEX {SUSPENSE_INDEX} ON journal_posting (entry_id) WHERE {SUSPENSE}")


def downgrade() -> None:
    op.execute(f"DROP INDEX {SUSPENSE_INDEX}")
    op.drop_index("uq_ledger_correction_request_pending", table_name=TABLE)
    op.drop_table(TABLE)

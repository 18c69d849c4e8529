"""notification, notification_outbox, deadline_warning: telling branches (issue 16.4)

Revision ID: 0016
Revises: 0020
Create Date: 2026-12-05
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0016"
down_revision: str | None = "0020"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

KEY = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
INSTANT = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "notification",
        sa.Column("id", KEY, nullable=False),
        sa.Column("branch_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("round_id", sa.Integer(), nullable=True),
        sa.Column("lead_count", sa.Integer(), nullable=False),
        sa.Column("lead_ids", sa.Text(), nullable=False),
        sa.Column("batch", sa.String(length=32), nullable=False),
        sa.Column("created_at", INSTANT, nullable=False),
        sa.Column("read_at", INSTANT, nullable=True),
        sa.Column("read_by", sa.String(length=64), nullable=True),
        sa.CheckConstraint(
            "kind IN ('assigned', 'deadline_approaching', 'reclaimed')",
            name=op.f("ck_notification_kind_known"),
        ),
        sa.CheckConstraint(
            "source IN ('round', 'routing', 'followup')", name=op.f("ck_notification_source_known")
        ),
        sa.ForeignKeyConstraint(
            ["branch_id"], ["branch.id"], name=op.f("fk_notification_branch_id_branch")
        ),
        sa.ForeignKeyConstraint(
            ["round_id"],
            ["allocation_round.id"],
            name=op.f("fk_notification_round_id_allocation_round"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notification")),
    )
    op.create_index(op.f("ix_notification_batch"), "notification", ["batch"])
    op.create_index("ix_notification_branch_read", "notification", ["branch_id", "read_at", "id"])
    op.create_table(
        "notification_outbox",
        sa.Column("id", KEY, nullable=False),
        sa.Column("notification_id", KEY, nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", INSTANT, nullable=False),
        sa.Column("last_error", sa.String(length=500), nullable=True),
        sa.Column("sent_at", INSTANT, nullable=True),
        sa.Column("updated_at", INSTANT, nullable=False),
        sa.CheckConstraint(
            "status IN ('pending', 'sent', 'dead', 'unrouted')",
            name=op.f("ck_notification_outbox_status_known"),
        ),
        sa.ForeignKeyConstraint(
            ["notification_id"],
            ["notification.id"],
            name=op.f("fk_notification_outbox_notification_id_notification"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notification_outbox")),
        sa.UniqueConstraint("notification_id", name=op.f("uq_notification_outbox_notification_id")),
    )
    op.create_index(
        "ix_notification_outbox_due", "notification_outbox", ["status", "next_attempt_at"]
    )
    op.create_table(
        "deadline_warning",
        sa.Column("lead_id", KEY, nullable=False),
        sa.Column("assigned_at", INSTANT, nullable=False),
        sa.Column("created_at", INSTANT, nullable=False),
        sa.ForeignKeyConstraint(
            ["lead_id"], ["lead.id"], name=op.f("fk_deadline_warning_lead_id_lead")
        ),
        sa.PrimaryKeyConstraint("lead_id", "assigned_at", name=op.f("pk_deadline_warning")),
    )


def downgrade() -> None:
    op.drop_table("deadline_warning")
    op.drop_index("ix_notification_outbox_due", table_name="notification_outbox")
    op.drop_table("notification_outbox")
    op.drop_index("ix_notification_branch_read", table_name="notification")
    op.drop_index(op.f("ix_notification_batch"), table_name="notification")
    op.drop_table("notification")

"""channel_key: API keys of channel systems that push leads (POST /api/v1/intake/leads)

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-05
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "channel_key",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key_id", sa.String(length=16), nullable=False),
        sa.Column("channel", sa.String(length=64), nullable=False),
        sa.Column("secret_sha256", sa.String(length=64), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_channel_key")),
        sa.UniqueConstraint("key_id", name=op.f("uq_channel_key_key_id")),
    )
    op.create_index(op.f("ix_channel_key_channel"), "channel_key", ["channel"])


def downgrade() -> None:
    op.drop_index(op.f("ix_channel_key_channel"), table_name="channel_key")
    op.drop_table("channel_key")

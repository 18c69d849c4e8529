"""personal data: sealed mobile numbers, erased leads

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-05

``lead.mobile`` holds an AES-GCM sealed value (``v1:`` + base64, 55 characters) instead of the
11 plain digits: widened to 80. Existing plain values stay readable and are sealed by
``o2o privacy seal-plain`` (the key is not the database's to know, so not here).
``lead.erased_at`` marks a lead whose person was erased. SQLite cannot change a column's type
and rebuilding ``lead`` would drop its history triggers, so there the column is renamed,
re-added with the new type, copied and the old one dropped.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    _retype_mobile(80)
    op.add_column("lead", sa.Column("erased_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    op.drop_column("lead", "erased_at")
    # Sealed values do not fit 11 characters: downgrade only after unsealing them.
    _retype_mobile(11)


def _retype_mobile(length: int) -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.alter_column("lead", "mobile", type_=sa.String(length), existing_nullable=True)
        return
    op.execute("ALTER TABLE lead RENAME COLUMN mobile TO mobile_before")
    op.execute(f"ALTER TABLE lead ADD COLUMN mobile VARCHAR({length})")
    op.execute("UPDATE lead SET mobile = mobile_before")
    op.execute("ALTER TABLE lead DROP COLUMN mobile_before")

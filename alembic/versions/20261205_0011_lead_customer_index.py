"""leads: the index on lead.customer_id is back

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-05

Migration 0007 dropped it because no query looked leads up by customer. Now a customer's leads
move, return and get reclaimed together (app/ownership), so transfers, returns, linking at
import and the round commit read a customer's leads: without the index each of those scans
the whole table (1.3M rows). The price is one more index entry per lead a round assigns.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_lead_customer_id", "lead", ["customer_id"])


def downgrade() -> None:
    op.drop_index("ix_lead_customer_id", table_name="lead")

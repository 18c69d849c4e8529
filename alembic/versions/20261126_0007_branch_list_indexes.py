"""leads: indexes for every branch lead list order; no index on lead.customer_id

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-26

With 1.3 million leads (about 4,300-6,700 per branch), a branch list that is not filtered by
status, or is sorted by id, sorted all of the branch's leads for each page of 50: 8 ms warm,
64 ms cold, measured on PostgreSQL. With these two indexes every list order is an ordered
index scan with a LIMIT (< 0.2 ms). No query looks leads up by ``customer_id`` (zero index
scans over a 1.3M-lead round and 10 minutes of branch traffic), and every index on ``lead``
is rewritten for each lead a round assigns, so that index goes.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.drop_index("ix_lead_customer_id", table_name="lead")
    op.create_index("ix_lead_branch_acquired", "lead", ["branch_id", "acquired_at", "id"])
    op.create_index("ix_lead_branch_id", "lead", ["branch_id", "id"])


def downgrade() -> None:
    op.drop_index("ix_lead_branch_id", table_name="lead")
    op.drop_index("ix_lead_branch_acquired", table_name="lead")
    op.create_index("ix_lead_customer_id", "lead", ["customer_id"])

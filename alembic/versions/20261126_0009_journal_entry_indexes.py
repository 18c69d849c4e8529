"""ledger at scale: fewer indexes written per journal entry header

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-26

Each imported event writes one header, and each index on ``journal_entry`` is one more
insert per header (200,000 per 200,000-event import, 2.4 s in all on PostgreSQL).

- ``ix_journal_entry_event_id`` becomes partial (entries other than credits): a credit is
  found by its business key, which is ``'revenue:' || event_id`` (check ``credit_key``), so
  the index only has to find an event's reversals and adjustments.
- PostgreSQL drops ``uq_journal_entry_id_posting_count``: it was only the target of the
  postings' composite foreign key, which migration 0006 replaced by a COMMIT-time range
  check there. SQLite keeps it for that foreign key (and the model declares it).
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

EVENT_INDEX = "ix_journal_entry_event_id"  # app.migrations.HAND_MANAGED_INDEXES
NOT_CREDITS = "kind <> 'credit'"  # repeated in the queries that look entries up by event
ID_COUNT = "uq_journal_entry_id_posting_count"  # app.migrations.SQLITE_ONLY_CONSTRAINTS


def upgrade() -> None:
    op.drop_index(EVENT_INDEX, table_name="journal_entry")
    op.execute(f"CREATE INDEX {EVENT_INDEX} ON journal_entry (event_id) WHERE {NOT_CREDITS}")
    if op.get_bind().dialect.name != "sqlite":
        op.drop_constraint(ID_COUNT, "journal_entry", type_="unique")


def downgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        op.create_unique_constraint(ID_COUNT, "journal_entry", ["id", "posting_count"])
    op.drop_index(EVENT_INDEX, table_name="journal_entry")
    op.create_index(EVENT_INDEX, "journal_entry", ["event_id"])

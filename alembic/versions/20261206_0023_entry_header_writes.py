"""ledger at scale: two fewer writes per journal entry header (PostgreSQL)

Revision ID: 0023
Revises: 0025
Create Date: 2026-12-06

Issue 18.3. Every imported event writes one header, and nearly every header is a credit
whose ``reverses`` is NULL. Measured on 1,000,000 imported events (``auto_explain``):

* the unique constraint on ``reverses`` indexed those NULLs too: one index insert per
  header for nothing. It becomes a unique index over the non-NULL values only (the same
  rule: at most one reversal per entry); ``WHERE reverses = :key`` still uses it;
* the foreign key ``reverses -> business_key`` ran its per-row trigger for every header,
  NULL or not (1,000,000 calls, 0.9 s). Like ``event_id`` (migration 0005) it becomes a
  check once per insert statement over the statement's rows; journal entries are
  append-only, so the parent can never go away afterwards.

SQLite keeps the declared constraint and foreign key (``app.migrations`` tells autogenerate).
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0023"
down_revision: str | None = "0025"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

REVERSES_UNIQUE = "uq_journal_entry_reverses"  # app.migrations: hand-managed on PostgreSQL
REVERSES_FK = "fk_journal_entry_reverses_journal_entry"


def _reference_check(*, with_reverses: bool) -> str:
    reverses = """
    IF EXISTS (SELECT 1 FROM new_rows n WHERE n.reverses IS NOT NULL
               AND NOT EXISTS (SELECT 1 FROM journal_entry p WHERE p.business_key = n.reverses)) THEN
        RAISE EXCEPTION 'journal_entry.reverses refers to a journal_entry that does not exist'
            USING ERRCODE = 'foreign_key_violation';
    END IF;"""
    # As migration 0005 wrote it, plus the reverses check.
    return f"""
CREATE OR REPLACE FUNCTION journal_entry_check_references() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM new_rows n WHERE n.event_id IS NOT NULL
               AND NOT EXISTS (SELECT 1 FROM revenue_event p WHERE p.event_id = n.event_id)) THEN
        RAISE EXCEPTION 'journal_entry.event_id refers to a revenue_event that does not exist'
            USING ERRCODE = 'foreign_key_violation';
    END IF;{reverses if with_reverses else ""}
    RETURN NULL;
END $$"""


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        return
    op.drop_constraint(REVERSES_FK, "journal_entry", type_="foreignkey")
    op.execute(_reference_check(with_reverses=True))
    op.drop_constraint(REVERSES_UNIQUE, "journal_entry", type_="unique")
    op.execute(
        f"CREATE UNIQUE INDEX {REVERSES_UNIQUE} ON journal_entry (reverses) "
        "WHERE reverses IS NOT NULL"
    )


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        return
    op.execute(f"DROP INDEX {REVERSES_UNIQUE}")
    op.create_unique_constraint(REVERSES_UNIQUE, "journal_entry", ["reverses"])
    op.execute(_reference_check(with_reverses=False))
    op.create_foreign_key(
        REVERSES_FK, "journal_entry", "journal_entry", ["reverses"], ["business_key"]
    )

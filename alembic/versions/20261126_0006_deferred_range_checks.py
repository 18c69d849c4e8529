"""ledger at scale: deferred references checked once per statement's id range (PostgreSQL)

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-26

Two ledger references must hold at COMMIT rather than per statement, because the row they
point at is written after the rows pointing at it: a posting needs its entry header (written
last, which seals the entry) and a revenue event needs its batch (written last, with the
batch's reconciled totals). As deferred foreign keys they cost one check per row at COMMIT
(1,000,000 per 200,000 imported events). Here, on PostgreSQL, each insert statement records
the id range it wrote in ``ledger_pending_check``; a deferred constraint trigger on that
small table checks each range once at COMMIT with one anti-join, and removes the row.

Ranges may include rows of concurrent transactions: those are either invisible (not yet
committed) or committed, and then passed the same check. SQLite keeps the foreign keys.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

PENDING = "ledger_pending_check"  # also in app.migrations.HAND_MANAGED_TABLES
# kind -> (table written, its id column, foreign key replaced, the missing-parent condition)
RANGES = {
    "postings": (
        "journal_posting",
        "entry_id",
        "fk_journal_posting_entry_id_journal_entry",
        "NOT EXISTS (SELECT 1 FROM journal_entry e "
        "WHERE e.id = c.entry_id AND e.posting_count = c.line_count)",
    ),
    "events": (
        "revenue_event",
        "id",
        "fk_revenue_event_batch_id_revenue_batch",
        "NOT EXISTS (SELECT 1 FROM revenue_batch b WHERE b.id = c.batch_id)",
    ),
}
FOREIGN_KEYS = {  # as migration 0002 created them, for the downgrade
    "fk_journal_posting_entry_id_journal_entry": (
        "(entry_id, line_count) REFERENCES journal_entry (id, posting_count)"
    ),
    "fk_revenue_event_batch_id_revenue_batch": "(batch_id) REFERENCES revenue_batch (id)",
}
MESSAGES = {
    "postings": "ledger: postings without their entry header",
    "events": "ledger: revenue events without their batch",
}


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        return
    op.execute(
        f"CREATE TABLE {PENDING} (id BIGSERIAL PRIMARY KEY, kind TEXT NOT NULL, "
        "first_id BIGINT NOT NULL, last_id BIGINT NOT NULL)"
    )
    for kind, (table, column, foreign_key, _missing) in RANGES.items():
        op.drop_constraint(foreign_key, table, type_="foreignkey")
        op.execute(
            f"CREATE FUNCTION {table}_record_range() RETURNS trigger LANGUAGE plpgsql AS $$ "
            f"BEGIN INSERT INTO {PENDING} (kind, first_id, last_id) "
            f"SELECT '{kind}', MIN({column}), MAX({column}) FROM new_rows HAVING COUNT(*) > 0; "
            "RETURN NULL; END $$"
        )
        op.execute(
            f"CREATE TRIGGER {table}_range AFTER INSERT ON {table} "
            "REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT "
            f"EXECUTE FUNCTION {table}_record_range()"
        )
    op.execute(_check_function())
    op.execute(
        f"CREATE CONSTRAINT TRIGGER {PENDING}_at_commit AFTER INSERT ON {PENDING} "
        "DEFERRABLE INITIALLY DEFERRED FOR EACH ROW "
        f"EXECUTE FUNCTION {PENDING}_run()"
    )


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        return
    op.execute(f"DROP TABLE {PENDING}")
    op.execute(f"DROP FUNCTION {PENDING}_run()")
    for table, _column, foreign_key, _missing in RANGES.values():
        op.execute(f"DROP TRIGGER {table}_range ON {table}")
        op.execute(f"DROP FUNCTION {table}_record_range()")
        op.execute(
            f"ALTER TABLE {table} ADD CONSTRAINT {foreign_key} FOREIGN KEY "
            f"{FOREIGN_KEYS[foreign_key]} DEFERRABLE INITIALLY DEFERRED"
        )


def _check_function() -> str:
    branches = "\n".join(
        f"""    IF NEW.kind = '{kind}' AND EXISTS (
        SELECT 1 FROM {table} c WHERE c.{column} BETWEEN NEW.first_id AND NEW.last_id
        AND {missing}) THEN
        RAISE EXCEPTION '{MESSAGES[kind]}' USING ERRCODE = 'foreign_key_violation';
    END IF;"""
        for kind, (table, column, _fk, missing) in RANGES.items()
    )
    return (
        f"CREATE FUNCTION {PENDING}_run() RETURNS trigger LANGUAGE plpgsql AS $$\nBEGIN\n"
        f"{branches}\n    DELETE FROM {PENDING} WHERE id = NEW.id;\n    RETURN NULL;\nEND $$"
    )

"""ledger at scale: a revenue event's content is compared column by column, not fingerprinted

Revision ID: 0033
Revises: 0032
Create Date: 2026-12-06

Issue 18.3. ``revenue_event.fingerprint`` held the SHA-256 of the event's content (event_id,
external_id, type, amount, instant) so that an import could tell a replay of an event from
the same event_id sent with other content. Those columns are stored beside it, so the
importer now compares them directly (``staging_table.CONTENT``); the column was 65 bytes of
each row written, and its hash computed for every staged row (bench/ledger_results.md, eighth
pass).

Downgrade puts the column back, filled with the fingerprints the core computes
(``ledger.revenue.content_fingerprint``, restated here as of 0032): in SQL on PostgreSQL, in
Python on SQLite; the append-only trigger is lifted for that one UPDATE inside the
migration's transaction.
"""

import hashlib
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from alembic import op

revision: str = "0033"
down_revision: str | None = "0032"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# ledger.revenue.content_fingerprint in SQL: the fields joined by U+001F, the instant as
# integer microseconds since the epoch, the (unused) channel empty.
_FINGERPRINT_SQL = """
    encode(sha256(convert_to(concat_ws(chr(31), event_id, external_id, revenue_type,
        amount_fen::text, (extract(epoch FROM occurred_at) * 1000000)::bigint::text, ''),
        'UTF8')), 'hex')
"""
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
# Migration 0002's SQLite trigger, lifted for the downgrade's UPDATE.
_SQLITE_NO_UPDATE = (
    "CREATE TRIGGER revenue_event_no_update BEFORE UPDATE ON revenue_event "
    "BEGIN SELECT RAISE(ABORT, 'ledger: revenue_event is append-only (UPDATE refused)'); END"
)


def upgrade() -> None:
    op.execute("ALTER TABLE revenue_event DROP COLUMN fingerprint")


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        _downgrade_sqlite()
        return
    op.execute("ALTER TABLE revenue_event ADD COLUMN fingerprint varchar(64)")
    op.execute("ALTER TABLE revenue_event DISABLE TRIGGER revenue_event_append_only")
    op.execute(f"UPDATE revenue_event SET fingerprint = {_FINGERPRINT_SQL}")
    op.execute("ALTER TABLE revenue_event ENABLE TRIGGER revenue_event_append_only")
    op.execute("ALTER TABLE revenue_event ALTER COLUMN fingerprint SET NOT NULL")


def _downgrade_sqlite() -> None:
    bind = op.get_bind()
    # SQLite adds a NOT NULL column only with a default; every row is filled below.
    op.execute("ALTER TABLE revenue_event ADD COLUMN fingerprint VARCHAR(64) NOT NULL DEFAULT ''")
    rows = bind.execute(
        sa.text(
            "SELECT id, event_id, external_id, revenue_type, amount_fen, occurred_at "
            "FROM revenue_event"
        )
    ).all()
    filled = [{"id": row[0], "fp": _fingerprint(*row[1:])} for row in rows]
    op.execute("DROP TRIGGER revenue_event_no_update")
    if filled:
        bind.execute(sa.text("UPDATE revenue_event SET fingerprint = :fp WHERE id = :id"), filled)
    op.execute(_SQLITE_NO_UPDATE)


def _fingerprint(
    event_id: str, external_id: str, revenue_type: str, amount_fen: int, occurred_at: str
) -> str:
    """ledger.revenue.content_fingerprint as of 0032, of a row as SQLite stores it (the
    instant as naive UTC text)."""
    instant = datetime.fromisoformat(occurred_at).replace(tzinfo=UTC) - _EPOCH
    micros = instant // timedelta(microseconds=1)
    fields = (event_id, external_id, revenue_type, str(amount_fen), str(micros), "")
    return hashlib.sha256("\x1f".join(fields).encode("utf-8")).hexdigest()

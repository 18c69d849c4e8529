"""The per-transaction staging table of a revenue import and its set-based checks.

Validated rows are streamed into a temporary table (COPY on PostgreSQL); leads are resolved,
duplicates and conflicts found, and new events inserted with set-based SQL, so that a file of
a million rows costs a handful of statements rather than a million round trips.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import text
from sqlmodel import Session

from app import bulk
from app.db import is_sqlite

STAGE = "revenue_import_stage"
# PostgreSQL copies the file into this table first and builds the stage from it with its
# leads joined (0.2 s for 200,000 rows, where updating the copied rows in place took 0.6 s).
ROWS = "revenue_import_rows"
STAGE_COLUMNS = (
    "line", "event_id", "external_id", "channel", "revenue_type", "amount_fen", "occurred_at",
)  # fmt: skip
# An event's content: two rows with the same event_id are the same event when these are equal
# and they name the same lead. The channel only disambiguates the lead, so a replay with or
# without the channel column is the same event. Compared column by column (migration 0033
# dropped the stored SHA-256 of the same columns: 65 bytes a row to write and hash).
CONTENT = ("external_id", "revenue_type", "amount_fen", "occurred_at")

_DDL = """
CREATE TEMPORARY TABLE {name} (
    line BIGINT NOT NULL, event_id VARCHAR(128) NOT NULL, external_id VARCHAR(128) NOT NULL,
    channel VARCHAR(64), revenue_type VARCHAR(32) NOT NULL, amount_fen BIGINT NOT NULL,
    occurred_at {ts} NOT NULL, lead_id BIGINT
){suffix}
"""


def create(session: Session) -> None:
    if is_sqlite(session):
        session.execute(text(f"DROP TABLE IF EXISTS temp.{STAGE}"))
        session.execute(text(_DDL.format(name=STAGE, ts="VARCHAR(32)", suffix="")))
    else:
        # Sorting and hashing a million-row file in memory rather than on disk: 47 s
        # instead of 53 s for 1,000,000 events at 256 MB (64 MB suffices for 200,000).
        # No JIT: compiling the owner lookup cost ~1 s that the run never won back.
        bulk.settle_in_for_bulk(session)
        session.execute(text(_DDL.format(name=ROWS, ts="TIMESTAMPTZ", suffix=" ON COMMIT DROP")))


def drop(session: Session) -> None:
    session.execute(text(f"DROP TABLE IF EXISTS {STAGE}"))


def write(session: Session, rows: Iterable[tuple[Any, ...]]) -> None:
    bulk.copy_rows(session, table=_written(session), columns=STAGE_COLUMNS, rows=rows)


def write_copy_text(session: Session, blocks: Iterable[bytes]) -> None:
    bulk.copy_text(session, table=_written(session), columns=STAGE_COLUMNS, blocks=blocks)


def _written(session: Session) -> str:
    return STAGE if is_sqlite(session) else ROWS


@dataclass(frozen=True, slots=True)
class Staged:
    """What resolving the leads found: the stage's rows, and whether a row may name a lead
    ambiguously (False only when no row joined several leads)."""

    rows: int
    maybe_ambiguous: bool


def resolve_leads(session: Session) -> Staged:
    """Set each row's lead (by channel when the file names one).

    One hash join. A row without a channel whose external_id is in several channels gets
    one of them (SQLite) or appears once per channel (PostgreSQL); either way it is
    reported as ambiguous and the file rejected before anything is written. On PostgreSQL
    a stage with exactly one row per copied row has no such row.
    """
    if is_sqlite(session):
        session.execute(
            text(f"""
            UPDATE {STAGE} SET lead_id = l.id FROM lead l
            WHERE l.external_id = {STAGE}.external_id
              AND ({STAGE}.channel IS NULL OR l.channel = {STAGE}.channel)
            """)
        )
        rows = session.execute(text(f"SELECT COUNT(*) FROM {STAGE}")).scalar_one()
        return Staged(rows=int(rows), maybe_ambiguous=True)
    copied = session.execute(text(f"SELECT COUNT(*) FROM {ROWS}")).scalar_one()
    columns = ", ".join(f"r.{column}" for column in STAGE_COLUMNS)
    # What crediting needs of the lead (its customer, fixed once set, and its channel) is
    # staged with it, so the event insert does not join the lead again (~1 s CPU a million).
    staged = session.execute(
        text(f"""
        CREATE TEMPORARY TABLE {STAGE} ON COMMIT DROP AS
        SELECT {columns}, l.id AS lead_id, l.customer_id, l.channel AS lead_channel
        FROM {ROWS} r LEFT JOIN lead l
          ON l.external_id = r.external_id AND (r.channel IS NULL OR l.channel = r.channel)
        """)
    ).rowcount  # type: ignore[attr-defined]
    session.execute(text(f"DROP TABLE {ROWS}"))
    session.execute(text(f"ANALYZE {STAGE}"))  # temp tables are never auto-analysed
    return Staged(rows=int(staged), maybe_ambiguous=int(staged) != int(copied))


def index_events(session: Session) -> None:
    """The stage index the repeat and conflict checks read (only built when they run)."""
    session.execute(text(f"CREATE INDEX IF NOT EXISTS {STAGE}_event ON {STAGE} (event_id, line)"))


def booked_absolute_fen(session: Session) -> int:
    """Sum of |amount| of every stored revenue event, exactly and without overflowing on
    SQLite (whose SUM of integers raises past 64 bits): yuan and fen summed apart."""
    sql = "SELECT SUM(ABS(amount_fen) / 100), SUM(ABS(amount_fen) % 100) FROM revenue_event"
    yuan, fen = session.execute(text(sql)).one()
    return int(yuan or 0) * 100 + int(fen or 0)


def first_line_past(session: Session, *, limit: int) -> int | None:
    """The line at which the staged amounts, added up in line order as absolute values,
    first exceed ``limit`` fen; None if they never do. Absolute values bound every total
    the batch stores (imported, branches, HQ, suspense), whatever the signs."""
    if is_sqlite(session):  # SUM of integers overflows there; TOTAL is a float
        rough = f"SELECT TOTAL(ABS(amount_fen)) FROM {STAGE}"
        if float(session.execute(text(rough)).scalar_one()) < limit * 0.99:
            return None
    else:
        exact = f"SELECT SUM(ABS(amount_fen)) FROM {STAGE}"  # numeric: cannot overflow
        if int(session.execute(text(exact)).scalar_one() or 0) <= limit:
            return None
    running = 0
    rows = session.execute(text(f"SELECT line, amount_fen FROM {STAGE} ORDER BY line"))
    for line, amount in rows:
        running += abs(int(amount))
        if running > limit:
            return int(line)
    return None


def unknown_leads(session: Session, *, limit: int) -> list[tuple[int, str, str | None]]:
    sql = f"""SELECT line, external_id, channel FROM {STAGE} WHERE lead_id IS NULL
              ORDER BY line LIMIT :limit"""
    return [(int(r[0]), str(r[1]), r[2]) for r in session.execute(text(sql), {"limit": limit})]


def ambiguous_leads(session: Session, *, limit: int) -> list[tuple[int, str, str]]:
    """Rows without a channel whose external_id exists in several channels."""
    sql = f"""
        SELECT DISTINCT s.line, s.external_id, l.channel FROM {STAGE} s
        JOIN lead l ON l.external_id = s.external_id
        WHERE s.channel IS NULL AND EXISTS (
            SELECT 1 FROM lead o WHERE o.external_id = s.external_id AND o.id <> l.id)
        ORDER BY s.line, l.channel
    """
    found: dict[tuple[int, str], list[str]] = {}
    for line, external_id, channel in session.execute(text(sql)):
        found.setdefault((int(line), str(external_id)), []).append(str(channel))
        if len(found) > limit:
            break
    return [(line, ext, ", ".join(chs)) for (line, ext), chs in list(found.items())[:limit]]


def content_differs(a: str, b: str) -> str:
    """SQL true when rows ``a`` and ``b`` (same event_id) differ in :data:`CONTENT`."""
    return " OR ".join(f"{a}.{column} <> {b}.{column}" for column in CONTENT)


def conflicting_repeats(session: Session, *, limit: int) -> list[tuple[int, str, int]]:
    """(line, event_id, first line) for a repeated event_id whose content differs.

    Rows with the same content and channel name the same lead (or are reported as
    ambiguous), so leads are compared only between rows whose channels differ.
    """
    sql = f"""
        SELECT DISTINCT s.line, s.event_id, f.line FROM {STAGE} s JOIN {STAGE} f
          ON f.event_id = s.event_id AND f.line < s.line
        WHERE NOT EXISTS (SELECT 1 FROM {STAGE} g WHERE g.event_id = s.event_id AND g.line < f.line)
          AND ({content_differs("f", "s")}
               OR (f.lead_id <> s.lead_id AND COALESCE(f.channel, '') <> COALESCE(s.channel, '')))
        ORDER BY s.line LIMIT :limit
    """
    return [(int(r[0]), str(r[1]), int(r[2])) for r in session.execute(text(sql), {"limit": limit})]


def insert_new_events(session: Session, *, batch_id: int) -> int:
    """Insert the first row of each event_id not stored yet; concurrent duplicates wait and
    are skipped (ON CONFLICT DO NOTHING), so an event is stored once whoever races. The rows
    go in line order, so a later row repeating an event_id of the file is skipped the same
    way (and reported by ``conflicting_repeats`` if its content differs)."""
    sql = f"""
        INSERT INTO revenue_event (event_id, external_id, channel, lead_id, revenue_type,
                                   amount_fen, occurred_at, batch_id, line)
        SELECT s.event_id, s.external_id, s.channel, s.lead_id, s.revenue_type, s.amount_fen,
               s.occurred_at, :batch, s.line
        FROM {STAGE} s
        WHERE true
        ORDER BY s.line
        ON CONFLICT (event_id) DO NOTHING
    """
    return int(session.execute(text(sql), {"batch": batch_id}).rowcount)  # type: ignore[attr-defined]


def conflicting_events(session: Session, *, limit: int) -> list[tuple[int, str, int, int]]:
    """(line, event_id, batch, line there) for events already stored with other content."""
    sql = f"""
        SELECT s.line, s.event_id, e.batch_id, e.line FROM {STAGE} s
        JOIN revenue_event e ON e.event_id = s.event_id
        WHERE {content_differs("e", "s")} OR e.lead_id <> s.lead_id
        ORDER BY s.line LIMIT :limit
    """
    rows = session.execute(text(sql), {"limit": limit})
    return [(int(r[0]), str(r[1]), int(r[2]), int(r[3])) for r in rows]

"""`o2o import revenue`: streaming, all-or-nothing, exactly-once, reconciled per batch.

1. Every row is validated and the good ones staged: on PostgreSQL a clean file is sent as
   it is and converted by the server (``sql_staging``); any other file, and every file on
   SQLite, is validated in Python (a big file from the CLI by one forked process per core,
   ``parallel_parse``) and staged by COPY on PostgreSQL.
2. Leads are resolved set-based; unknown or ambiguous leads and conflicting repeats are row
   errors. Any error rejects the file: nothing is written.
3. New events are inserted once each: the unique event_id index refuses a second copy, so a
   replay, or a concurrent import of the same event, adds nothing (ON CONFLICT DO NOTHING,
   or on PostgreSQL for a file expected to be new a plain insert that is redone that way if
   the index refuses a row); an event_id stored with other content is an error.
4. New events are credited under the split policy in force at their ``occurred_at`` (the
   default rule without one): on PostgreSQL the event insert itself stores each event with
   its default-rule credit (``sql_crediting``: the row is its own journal entry, migration
   0031), the core credits events under a split policy; on SQLite the core credits every
   event page by page, its entries written in bulk. The batch
   row carries the control totals, and they are recomputed from the stored postings
   before the transaction may commit.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlmodel import Session

from app import audit, bulk
from app.config import get_settings
from app.db import is_sqlite
from app.errors import Conflict
from app.faults import crash_point
from app.imports.csvfile import ErrorCollector, open_text, read_rows
from app.journal.policies import versions
from app.journal.revenue_import import (
    crediting,
    parallel_parse,
    sql_crediting,
    sql_staging,
    staging_table,
)
from app.journal.revenue_import.row_parser import REQUIRED, RevenueRowParser
from app.journal.store import period_lock
from app.tables.base import utcnow
from coded_messages import message
from ledger.money import MAX_FEN, format_fen
from ledger.reconciliation import Reconciliation

Progress = Callable[[int], None]
_ZERO = Reconciliation(imported_fen=0, branches_fen=0, hq_fen=0, suspense_fen=0)
# Past this many new events, ANALYZE before the crediting queries of the same transaction, so
# they are not planned as if the table were still small.
_ANALYZE_FROM_ROWS = 10_000


@dataclass(frozen=True, slots=True)
class RevenueImportReport:
    file: str
    rows: int
    new_events: int
    batch_id: int | None
    totals: Reconciliation
    seconds: float

    @property
    def unchanged(self) -> int:
        return self.rows - self.new_events

    def summary(self) -> str:
        rate = self.rows / self.seconds if self.seconds > 0 else 0.0
        t = self.totals
        return (
            f"{self.file}: {self.rows} rows, {self.new_events} new events, "
            f"{self.unchanged} already credited; imported {t.imported_fen} fen = branches "
            f"{t.branches_fen} + HQ {t.hq_fen} + suspense {t.suspense_fen} "
            f"in {self.seconds:.2f} s ({rate:,.0f} rows/s)"
        )


def import_revenue(
    session: Session,
    *,
    path: Path,
    actor: str,
    now: datetime | None = None,
    batch_rows: int = 5_000,
    progress: Progress | None = None,
    file_name: str | None = None,
    parse_workers: int = 1,
    max_amount_fen: int | None = None,
) -> RevenueImportReport:
    """Import one revenue file (see the module docstring).

    ``max_amount_fen`` bounds each row's amount either way (default: the
    ``O2O_MAX_REVENUE_AMOUNT_FEN`` setting); a row beyond it is a row error.

    ``parse_workers`` > 1 parses in that many forked processes on PostgreSQL
    (``parallel_parse``): only for a single-threaded caller such as the CLI.
    """
    started = time.perf_counter()
    now = now or utcnow()
    name = file_name or path.name
    errors = ErrorCollector(file=name)
    limit = max_amount_fen or get_settings().max_revenue_amount_fen
    staging_table.create(session)
    sqlite = is_sqlite(session)
    rows = None if sqlite else sql_staging.stage(session, path=path, now=now, max_amount_fen=limit)
    if rows is None and parse_workers > 1 and not sqlite:
        rows = _stage_in_parallel(session, path=path, name=name, errors=errors, now=now,
                                  workers=parse_workers, max_amount_fen=limit)  # fmt: skip
    elif rows is None:
        rows = _stage_file(session, path=path, name=name, errors=errors, now=now,
                           max_amount_fen=limit)  # fmt: skip
    stage = staging_table.resolve_leads(session)
    _report_file_total_overflow(session, errors)
    _report_lead_errors(session, errors, stage=stage)
    if errors.total:
        _report_repeats(session, errors)  # reported with the others, as the file is refused
    errors.raise_if_any()
    crash_point("revenue.import.after_stage")
    period_lock.take_posting_lock(session)  # before the closed periods are read
    terms = None
    if not sqlite:
        terms = sql_crediting.credit_terms(session, now=now, stage=staging_table.STAGE)
    batch_id, new = _insert_events(session, errors=errors, staged=stage.rows, terms=terms)
    crash_point("revenue.import.after_events")
    totals = _credit_batch(session, batch_id=batch_id, now=now, page=batch_rows, progress=progress,
                           terms=terms)  # fmt: skip
    if new:
        _record_batch(session, batch_id=batch_id, path=path, name=name, actor=actor, now=now,
                      rows=rows, new=new, totals=totals)  # fmt: skip
    staging_table.drop(session)
    report = RevenueImportReport(
        file=name, rows=rows, new_events=new, batch_id=batch_id if new else None,
        totals=totals, seconds=time.perf_counter() - started,
    )  # fmt: skip
    _audit(session, report=report, actor=actor)
    crash_point("revenue.import.before_commit")
    return report


def _insert_events(
    session: Session, *, errors: ErrorCollector, staged: int,
    terms: sql_crediting.CreditTerms | None,
) -> tuple[int, int]:  # fmt: skip
    """Store the new events under a fresh batch id; returns (batch id, new events).

    When every staged row became a new event, no event_id repeats in the file and none was
    stored before, so neither can conflict: the two checks (and the stage index they read)
    are only paid for a file that repeats or replays events. Otherwise a repeat with other
    content, or an event stored with other content, refuses the file: the transaction,
    with the events just inserted, is rolled back.
    """
    period_lock.take_posting_lock(session)
    batch_id = bulk.reserve_ids(session, table="revenue_batch", count=1)[0]
    if terms is None:
        new = staging_table.insert_new_events(session, batch_id=batch_id)
    else:
        new = sql_crediting.insert_new_events(session, batch_id=batch_id,
                                              stage=staging_table.STAGE, terms=terms)  # fmt: skip
    if new >= _ANALYZE_FROM_ROWS:
        bulk.refresh_statistics(session, "revenue_event")
    if new != staged:
        _report_repeats(session, errors)
        errors.raise_if_any()
        _report_conflicts(session, errors)
        errors.raise_if_any()
    return batch_id, new


def _stage_file(
    session: Session, *, path: Path, name: str, errors: ErrorCollector, now: datetime,
    max_amount_fen: int,
) -> int:  # fmt: skip
    """Validate every row and stage the good ones; returns the number of data rows.

    The rows are parsed inside the generator one COPY consumes, so the database ingests the
    stage while Python is still reading the file.
    """
    parser = RevenueRowParser(errors=errors, now=now, max_amount_fen=max_amount_fen)
    count = 0

    def staged() -> Iterator[tuple[Any, ...]]:
        nonlocal count
        with open_text(path) as stream:
            for row in read_rows(stream, file=name, required=REQUIRED):
                count += 1
                parsed = parser.parse(row)
                if parsed is not None:
                    yield parsed

    staging_table.write(session, staged())
    return count


def _stage_in_parallel(
    session: Session, *, path: Path, name: str, errors: ErrorCollector, now: datetime,
    workers: int, max_amount_fen: int,
) -> int:  # fmt: skip
    """As :func:`_stage_file`, with the rows validated in ``workers`` processes."""
    rows: list[int] = []
    blocks = parallel_parse.copy_blocks(
        path=path,
        name=name,
        now=now,
        errors=errors,
        workers=workers,
        counted=rows.append,
        max_amount_fen=max_amount_fen,
    )
    staging_table.write_copy_text(session, blocks)
    return rows[0]


def _report_file_total_overflow(session: Session, errors: ErrorCollector) -> None:
    """Revenue whose absolute amounts, all stored events and this file's rows together, would
    pass 64-bit fen is a row error at the line where the running total crosses it (both
    parsers stage the same rows, so they report the same line). Keeping the ledger's
    all-time absolute total inside 64 bits keeps every sum of it inside too: batch totals,
    account balances, period and statement totals."""
    room = MAX_FEN - staging_table.booked_absolute_fen(session)
    line = staging_table.first_line_past(session, limit=room)
    if line is not None:
        errors.add(line, "amount", message("revenue.total_overflow", limit=format_fen(MAX_FEN)))


def _report_lead_errors(
    session: Session, errors: ErrorCollector, *, stage: staging_table.Staged
) -> None:
    limit = errors.keep
    for line, external_id, channel in staging_table.unknown_leads(session, limit=limit):
        unknown = (
            message("revenue.no_lead_in_channel", external_id=external_id, channel=channel)
            if channel
            else message("revenue.no_lead", external_id=external_id)
        )
        errors.add(line, "external_id", unknown)
    if not stage.maybe_ambiguous:
        return
    for line, external_id, channels in staging_table.ambiguous_leads(session, limit=limit):
        ambiguous = message("revenue.ambiguous_lead", external_id=external_id, channels=channels)
        errors.add(line, "external_id", ambiguous)


def _report_repeats(session: Session, errors: ErrorCollector) -> None:
    staging_table.index_events(session)
    for line, event_id, first in staging_table.conflicting_repeats(session, limit=errors.keep):
        errors.add(
            line, "event_id", message("revenue.repeated_event", event_id=event_id, first=first)
        )


def _report_conflicts(session: Session, errors: ErrorCollector) -> None:
    for line, event_id, batch, there in staging_table.conflicting_events(
        session, limit=errors.keep
    ):
        changed = message("revenue.changed_event", event_id=event_id, batch=batch, line=there)
        errors.add(line, "event_id", changed)


def _credit_batch(
    session: Session, *, batch_id: int, now: datetime, page: int, progress: Progress | None,
    terms: sql_crediting.CreditTerms | None,
) -> Reconciliation:  # fmt: skip
    if terms is None:
        totals = _credit_in_pages(session, batch_id=batch_id, now=now, page=page, progress=progress)
    else:
        credited, totals = sql_crediting.credit_batch(session, batch_id=batch_id, now=now,
                                                      terms=terms)  # fmt: skip
        if progress:
            progress(credited)
    crash_point("revenue.import.after_headers")
    stored = crediting.stored_totals(session, batch_id=batch_id)
    if stored != totals or not totals.balanced:
        raise Conflict(
            message("import.unreconciled", batch=batch_id, computed=str(totals), stored=str(stored))
        )
    return totals


def _credit_in_pages(
    session: Session, *, batch_id: int, now: datetime, page: int, progress: Progress | None
) -> Reconciliation:
    """The core credits each event (SQLite: small files, one writer at a time)."""
    closed = period_lock.closed_through(session)
    book = versions.load_book(session)
    totals = _ZERO
    done = 0
    for rows in crediting.new_event_pages(session, batch_id=batch_id, page=page):
        chunk = crediting.post_page(session, rows=rows, now=now, closed=closed, book=book)
        totals = crediting.add_totals(totals, chunk)
        done += len(rows)
        if progress:
            progress(done)
    return totals


def _record_batch(
    session: Session, *, batch_id: int, path: Path, name: str, actor: str, now: datetime,
    rows: int, new: int, totals: Reconciliation,
) -> None:  # fmt: skip
    values = (
        batch_id, name[:255], _sha256(path), actor[:64], now, rows, new, totals.imported_fen,
        totals.branches_fen, totals.hq_fen, totals.suspense_fen,
    )  # fmt: skip
    columns = (
        "id", "file_name", "file_sha256", "actor", "created_at", "row_count", "new_events",
        "imported_fen", "branches_fen", "hq_fen", "suspense_fen",
    )  # fmt: skip
    bulk.copy_rows(session, table="revenue_batch", columns=columns, rows=[values])


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _audit(session: Session, *, report: RevenueImportReport, actor: str) -> None:
    t = report.totals
    audit.record(
        session, actor=actor, action="import.revenue", entity_type="revenue_batch",
        entity_id=report.batch_id,
        detail={
            "file": report.file, "rows": report.rows, "new_events": report.new_events,
            "imported_fen": t.imported_fen, "branches_fen": t.branches_fen,
            "hq_fen": t.hq_fen, "suspense_fen": t.suspense_fen,
        },
    )  # fmt: skip

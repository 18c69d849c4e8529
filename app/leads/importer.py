"""`o2o import leads`: streaming, all-or-nothing, idempotent by (channel, external_id)."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from app import audit
from app.bulk import refresh_statistics
from app.db import is_sqlite
from app.imports.csvfile import CsvRow, ErrorCollector
from app.imports.encoding import resolve_encoding
from app.imports.report import ImportReport
from app.imports.source import Reading, detect_format, open_rows
from app.leads import parallel_stage, staging
from app.leads.rows import REQUIRED, LeadRowParser
from app.ownership.holdings import serves
from app.ownership.service import release_customer
from app.privacy.cipher import cipher_for
from app.tables import Branch, Lead
from app.tables.base import utcnow
from coded_messages import message

Progress = Callable[[int], None]


@dataclass(frozen=True, slots=True)
class Ingested:
    rows: int
    inserted: int
    linked: int
    new_lead_ids: tuple[int, ...] | None = None  # when asked for (`ingest_rows`)


def import_leads(
    session: Session,
    *,
    path: Path,
    actor: str,
    secret: bytes,
    channel: str | None = None,
    batch_rows: int = 5_000,
    progress: Progress | None = None,
    file_name: str | None = None,
    reading: Reading = Reading(),
    parse_workers: int = 1,
) -> ImportReport:
    """`file_name` names the file in errors and the report (an upload's own name).

    `parse_workers` > 1 validates a CSV file in that many forked processes on PostgreSQL
    (`app.imports.parallel`): only for a single-threaded caller such as the CLI."""
    started = time.perf_counter()
    name = file_name or path.name
    if parse_workers > 1 and _parallel_csv(session, path, name=name, reading=reading):
        encoding = resolve_encoding(path, declared=reading.encoding, file=name)
        done = ingest_in_parallel(
            session, path=path, source=name, encoding=encoding, actor=actor, secret=secret,
            channel=channel, workers=parse_workers, batch_rows=batch_rows,
        )  # fmt: skip
        if progress:
            progress(done.rows)
        read_as: tuple[Any, ...] = ("csv", encoding, None)
    else:
        with open_rows(path, file=name, required=REQUIRED, reading=reading) as opened:
            done = ingest_rows(
                session, opened.rows, source=name, actor=actor, secret=secret, channel=channel,
                batch_rows=batch_rows, progress=progress,
            )  # fmt: skip
        read_as = (opened.file_format, opened.encoding, opened.sheet)
    file_format, encoding_read, sheet = read_as
    report = ImportReport(
        file=name,
        rows=done.rows,
        inserted=done.inserted,
        updated=0,
        unchanged=done.rows - done.inserted,
        linked=done.linked,
        seconds=time.perf_counter() - started,
        file_format=file_format,
        encoding=encoding_read,
        sheet=sheet,
    )
    detail: dict[str, object] = {**report.read_as(), "rows": done.rows,
                                 "inserted": done.inserted, "linked": done.linked,
                                 "channel": channel}  # fmt: skip
    audit.record(session, actor=actor, action="import.leads", entity_type="lead", detail=detail)
    return report


def _parallel_csv(session: Session, path: Path, *, name: str, reading: Reading) -> bool:
    return (
        not is_sqlite(session)
        and detect_format(path, file=name, declared=reading.file_format) == "csv"
    )


def ingest_rows(
    session: Session,
    rows: Iterable[CsvRow],
    *,
    source: str,
    actor: str,
    secret: bytes,
    channel: str | None,
    batch_rows: int = 5_000,
    progress: Progress | None = None,
    new_lead_ids: bool = False,
) -> Ingested:
    """Validate every row (all or nothing), insert the new leads, link returning customers.

    The one path for leads from files and from channel systems (app/intake), which ask for
    `new_lead_ids`."""
    errors = ErrorCollector(file=source)
    parser = LeadRowParser(
        default_channel=channel, secret=secret, errors=errors, cipher=cipher_for(session)
    )
    staging.create_stage(session)
    count = _stage_rows(session, rows, parser=parser, batch_rows=batch_rows, progress=progress)
    return _ingest_staged(session, errors, rows=count, actor=actor, batch_rows=batch_rows,
                          new_lead_ids=new_lead_ids)  # fmt: skip


def ingest_in_parallel(
    session: Session, *, path: Path, source: str, encoding: str, actor: str, secret: bytes,
    channel: str | None, workers: int, batch_rows: int = 5_000,
) -> Ingested:  # fmt: skip
    """`ingest_rows` for a CSV file (in `encoding`, checked already) validated in `workers`
    forked processes: PostgreSQL only, and only from a single-threaded caller (the CLI)."""
    errors = ErrorCollector(file=source)
    staging.create_stage(session)
    counted: list[int] = []
    blocks = parallel_stage.copy_blocks(
        path=path, name=source, encoding=encoding, errors=errors, workers=workers,
        default_channel=channel, secret=secret, cipher=cipher_for(session),
        counted=counted.append,
    )  # fmt: skip
    staging.write_copy_text(session, blocks)
    return _ingest_staged(session, errors, rows=counted[0], actor=actor, batch_rows=batch_rows)


def _ingest_staged(
    session: Session, errors: ErrorCollector, *, rows: int, actor: str, batch_rows: int,
    new_lead_ids: bool = False,
) -> Ingested:  # fmt: skip
    """Once every row is staged: refuse the file if any row was bad, else write it."""
    count = rows
    errors.raise_if_any()
    now = utcnow()
    new_customers, inserted, ids = _insert_unrepeated(
        session, errors, rows=count, now=now, new_lead_ids=new_lead_ids
    )
    # A new customer per row: no row's customer was there before, so none has an owner.
    linked = 0 if new_customers == count else staging.link_owned_customers(session, now=now)
    if linked:
        _repool_unserved_links(session, actor=actor, now=now)
    staging.drop_stage(session)
    if count >= batch_rows:
        refresh_statistics(session, "lead", "customer")
    return Ingested(rows=count, inserted=inserted, linked=linked,
                    new_lead_ids=None if ids is None else tuple(ids))  # fmt: skip


def _repool_unserved_links(session: Session, *, actor: str, now: datetime) -> None:
    """A returning customer whose new lead has a tier the owner does not serve is re-pooled:
    the next round finds a branch that serves the customer's (now higher) tier."""
    linked = staging.linked_leads(session, now=now)
    owners = {branch_id for _, _, branch_id in linked}
    branches = {b.id: b for b in session.exec(select(Branch).where(col(Branch.id).in_(owners)))}
    for lead_id, tier, branch_id in linked:
        branch = branches[branch_id]
        if serves(branch, tier):
            continue
        lead = session.get(Lead, lead_id)
        assert lead is not None
        if lead.branch_id is None:  # released already with a sibling
            continue
        why = f"new lead {lead.external_id} is {tier}, which {branch.code} does not serve"
        for released in release_customer(
            session, lead=lead, at=now, reason="repooled", status="reclaimed", note=why
        ):
            detail: dict[str, object] = {"branch": branch.code, "reason": why}
            audit.record(
                session, actor=actor, action="lead.repooled", entity_type="lead",
                entity_id=released.id, detail=detail,
            )  # fmt: skip


def _stage_rows(
    session: Session,
    rows: Iterable[CsvRow],
    *,
    parser: LeadRowParser,
    batch_rows: int,
    progress: Progress | None,
) -> int:
    """Validate every row; stage the good ones in batches. Returns the number of data rows."""
    batch: list[tuple[Any, ...]] = []
    count = 0
    for row in rows:
        count += 1
        staged = parser.parse(row)
        if staged is not None and not parser.errors.total:
            batch.append(staged)
        if len(batch) >= batch_rows:
            staging.write_stage(session, batch)
            batch.clear()
            if progress:
                progress(count)
    if batch and not parser.errors.total:
        staging.write_stage(session, batch)
    if progress:
        progress(count)
    return count


def _insert_unrepeated(
    session: Session, errors: ErrorCollector, *, rows: int, now: datetime, new_lead_ids: bool
) -> tuple[int, int, list[int] | None]:
    """The stage's new customers and leads (counts, and the lead ids when asked for), or
    FileRejected naming each repeated key, with nothing of either inserted.

    A key the file repeats is found without grouping the stage when it can be: two new rows
    with one key break lead's unique index, and a file whose every row went in repeats none.
    Only a refused insert, or rows left out because their lead is stored already (where a
    repeat would go unnoticed), group the stage by key to name the lines: the grouping was
    2.0-2.3 s of a 1.3M-row import (bench/RESULTS.md)."""
    try:
        with session.begin_nested():
            customers = staging.insert_new_customers(session, now=now)
            ids = staging.insert_new_leads_returning_ids(session, now=now) if new_lead_ids else None
            inserted = staging.insert_new_leads(session, now=now) if ids is None else len(ids)
            if inserted < rows and rows > 1:  # one row cannot repeat itself
                _refuse_repeated_keys(session, errors)
    except IntegrityError:
        _refuse_repeated_keys(session, errors)  # or the refusal was not about a repeat
        raise
    return customers, inserted, ids


def _refuse_repeated_keys(session: Session, errors: ErrorCollector) -> None:
    for channel, external_id, first, later in staging.duplicate_keys(session, limit=errors.keep):
        repeated = message("lead.repeated", external_id=external_id, channel=channel, first=first)
        errors.add(later, "external_id", repeated)
    errors.raise_if_any()

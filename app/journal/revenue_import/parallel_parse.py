"""Parsing a large revenue file in worker processes while PostgreSQL ingests it.

Validating a row in Python (the core's parsers, the fingerprint) costs 6-8 us; staging a
200,000-row file that way took 1.9 s of a ~9 s import, with PostgreSQL mostly idle (1.2 s
with two workers on two cores, bench/ledger_results.md). Here ``n`` forked
workers each read the whole file (the csv module is cheap) but validate only every n-th data
row, and send their rows as COPY text blocks through a pipe; the importer forwards the
blocks to COPY as they arrive, so parsing runs on every core and overlaps the ingest.

The result is the one :class:`~app.journal.revenue_import.row_parser.RevenueRowParser`
gives sequentially: the same stage rows (order does not matter, each carries its line), the
same row count, and the same errors in line order (``ErrorCollector.absorb``). Forking is
only safe from a single-threaded process, so only the CLI asks for workers; the web app
parses in-process.
"""

from __future__ import annotations

import multiprocessing
import os
import pickle
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from multiprocessing.connection import Connection, wait
from pathlib import Path
from typing import Any

from app.errors import FileRejected, RowError
from app.imports.csvfile import ErrorCollector, open_text, read_rows
from app.journal.revenue_import.row_parser import DEFAULT_MAX_AMOUNT_FEN, REQUIRED, RevenueRowParser
from app.limits import import_row_limit

_BLOCK_ROWS = 2_000
# Below this size (~70,000 rows) starting processes is not worth it.
PARALLEL_FROM_BYTES = 4 << 20
MAX_WORKERS = 4
_DATA, _DONE, _REJECTED, _FAILED = b"D", b"E", b"R", b"X"
_NULL = "\\N"  # COPY text format


def workers_for(path: Path) -> int:
    """How many parsing processes the CLI uses for ``path``: one per core for a big file."""
    if path.stat().st_size < PARALLEL_FROM_BYTES:
        return 1
    if "fork" not in multiprocessing.get_all_start_methods():
        return 1  # Windows: parse in-process
    return max(1, min(MAX_WORKERS, os.cpu_count() or 1))


@dataclass(frozen=True, slots=True)
class ShareJob:
    """What one worker needs: the file, its share (k of n) and the settings in force."""

    path: Path
    name: str
    now: datetime
    share: int
    shares: int
    keep: int
    max_rows: int | None
    max_amount_fen: int


def copy_blocks(
    *, path: Path, name: str, now: datetime, errors: ErrorCollector, workers: int,
    counted: Callable[[int], None], max_amount_fen: int = DEFAULT_MAX_AMOUNT_FEN,
) -> Iterator[bytes]:  # fmt: skip
    """COPY text blocks of every good row; bad rows go to ``errors``, the number of data
    rows to ``counted`` once all workers are done. A malformed file raises FileRejected."""
    context = multiprocessing.get_context("fork")
    max_rows = import_row_limit.get()
    receivers: list[Connection] = []
    processes = []
    try:
        for share in range(workers):
            receiver, sender = context.Pipe(duplex=False)
            receivers.append(receiver)
            job = ShareJob(path, name, now, share, workers, errors.keep, max_rows, max_amount_fen)
            # The child closes its inherited copies of the read ends, so that when the
            # importer closes its own, a worker still writing sees a broken pipe.
            process = context.Process(
                target=_work, args=(sender, job, tuple(receivers)), daemon=True
            )
            process.start()
            sender.close()
            processes.append(process)
        yield from _collect(receivers, errors=errors, counted=counted)
    finally:
        # If the import stopped early (the database refused, the caller gave up), a worker
        # still writing gets a broken pipe and stops.
        for receiver in receivers:
            receiver.close()
        for process in processes:
            process.join(timeout=5)
            if process.is_alive():
                process.kill()


def _collect(
    receivers: list[Connection], *, errors: ErrorCollector, counted: Callable[[int], None]
) -> Iterator[bytes]:
    rows = 0
    rejected: FileRejected | None = None
    pending = list(receivers)
    while pending:
        for receiver in wait(pending):
            assert isinstance(receiver, Connection)
            try:
                message = receiver.recv_bytes()
            except EOFError:
                raise RuntimeError("a revenue parsing worker stopped without a result") from None
            kind, body = message[:1], message[1:]
            if kind == _DATA:
                yield body
                continue
            pending.remove(receiver)
            receiver.close()
            if kind == _DONE:
                count, found, total = pickle.loads(body)
                rows += count
                errors.absorb(found, total)
            elif kind == _REJECTED:
                found, total = pickle.loads(body)
                rejected = rejected or FileRejected(file=errors.file, errors=found,
                                                    total_errors=total)  # fmt: skip
            else:
                raise RuntimeError(f"a revenue parsing worker failed: {pickle.loads(body)}")
    if rejected is not None:
        raise rejected
    counted(rows)


def _work(sender: Connection, job: ShareJob, inherited: tuple[Connection, ...]) -> None:
    """Worker process: validate this share's rows and send them as COPY text."""
    for receiver in inherited:
        receiver.close()
    try:
        sender.send_bytes(_DONE + pickle.dumps(_parse_share(sender, job)))
    except FileRejected as exc:
        sender.send_bytes(_REJECTED + pickle.dumps((exc.errors, exc.total_errors)))
    except (BrokenPipeError, ConnectionResetError):
        pass  # the importer stopped reading: nothing left to tell it
    except BaseException as exc:  # reported to the importer, which raises
        sender.send_bytes(_FAILED + pickle.dumps(repr(exc)))
    finally:
        sender.close()


def _parse_share(sender: Connection, job: ShareJob) -> tuple[int, list[RowError], int]:
    import_row_limit.set(job.max_rows)
    errors = ErrorCollector(file=job.name, keep=job.keep)
    parser = RevenueRowParser(errors=errors, now=job.now, max_amount_fen=job.max_amount_fen)
    count, block = 0, []
    with open_text(job.path) as stream:
        for row in read_rows(stream, file=job.name, required=REQUIRED,
                             share=(job.share, job.shares)):  # fmt: skip
            count += 1
            parsed = parser.parse(row)
            if parsed is None:
                continue
            block.append(copy_line(parsed))
            if len(block) == _BLOCK_ROWS:
                sender.send_bytes(_DATA + "".join(block).encode("utf-8"))
                block = []
    if block:
        sender.send_bytes(_DATA + "".join(block).encode("utf-8"))
    return count, errors.errors, errors.total


def copy_line(row: tuple[Any, ...]) -> str:
    """One stage row (``stage.STAGE_COLUMNS``) in COPY's text format.

    Ids are printable (the core refuses tabs and line breaks), so a backslash is the only
    character to escape; channel names and fingerprints have none. The instant is written
    in UTC so that no zone's historical offset has to be understood by the server.
    """
    line, event_id, external_id, channel, revenue_type, amount, occurred_at, fingerprint = row
    return (
        f"{line}\t{_escaped(event_id)}\t{_escaped(external_id)}\t"
        f"{_NULL if channel is None else channel}\t{revenue_type}\t{amount}\t"
        f"{occurred_at.astimezone(UTC).isoformat()}\t{fingerprint}\n"
    )


def _escaped(value: str) -> str:
    return value.replace("\\", "\\\\") if "\\" in value else value

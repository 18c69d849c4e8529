"""Validating a large CSV file in worker processes while PostgreSQL ingests it.

Validating a row in Python costs microseconds each; a file of a million rows kept one core busy
for most of its import, with PostgreSQL waiting. Here ``n`` forked workers each read the whole
file (the csv module is cheap) but validate only every n-th data row, and send their good rows
as COPY text blocks through a pipe; the importer forwards the blocks to COPY as they arrive, so
validation runs on every core and overlaps the ingest.

What a worker does with its rows is the importer's (``ShareParser``); the result is the one its
sequential parser gives: the same stage rows (order does not matter, each carries its line),
the same row count, and the same errors in line order (``ErrorCollector.absorb``). Forking is
only safe from a single-threaded process, so only the CLI asks for workers; the web app
parses in-process.
"""

from __future__ import annotations

import multiprocessing
import os
import pickle
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from multiprocessing.connection import Connection, wait
from pathlib import Path

from app.errors import FileRejected, RowError
from app.imports.csvfile import ErrorCollector
from app.limits import import_row_limit

_BLOCK_ROWS = 2_000
# Below this size (~70,000 rows) starting processes is not worth it.
PARALLEL_FROM_BYTES = 4 << 20
MAX_WORKERS = 4
_DATA, _DONE, _REJECTED, _FAILED = b"D", b"E", b"R", b"X"
NULL = "\\N"  # COPY text format


@dataclass(frozen=True, slots=True)
class Share:
    """One worker's part: every data row whose ordinal is `share` modulo `shares`."""

    path: Path
    name: str
    share: int
    shares: int


# Yields, for each data row of the share, its COPY text line, or None for a row it reported
# to the collector as bad.
ShareParser = Callable[[Share, ErrorCollector], Iterator[str | None]]


def workers_for(path: Path) -> int:
    """How many parsing processes the CLI uses for ``path``: one per core for a big file."""
    if path.stat().st_size < PARALLEL_FROM_BYTES:
        return 1
    if "fork" not in multiprocessing.get_all_start_methods():
        return 1  # Windows: parse in-process
    return max(1, min(MAX_WORKERS, os.cpu_count() or 1))


def copy_blocks(
    *, path: Path, name: str, errors: ErrorCollector, workers: int, parse: ShareParser,
    counted: Callable[[int], None],
) -> Iterator[bytes]:  # fmt: skip
    """COPY text blocks of every good row; bad rows go to ``errors``, the number of data
    rows to ``counted`` once all workers are done. A malformed file raises FileRejected."""
    context = multiprocessing.get_context("fork")
    settings = (errors.keep, import_row_limit.get())
    receivers: list[Connection] = []
    processes = []
    try:
        for share in range(workers):
            receiver, sender = context.Pipe(duplex=False)
            receivers.append(receiver)
            job = Share(path, name, share, workers)
            # The child closes its inherited copies of the read ends, so that when the
            # importer closes its own, a worker still writing sees a broken pipe.
            process = context.Process(
                target=_work, args=(sender, job, parse, settings, tuple(receivers)), daemon=True
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
                raise RuntimeError("a parsing worker stopped without a result") from None
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
                raise RuntimeError(f"a parsing worker failed: {pickle.loads(body)}")
    if rejected is not None:
        raise rejected
    counted(rows)


def _work(
    sender: Connection, job: Share, parse: ShareParser, settings: tuple[int, int | None],
    inherited: tuple[Connection, ...],
) -> None:  # fmt: skip
    """Worker process: validate this share's rows and send them as COPY text."""
    for receiver in inherited:
        receiver.close()
    try:
        sender.send_bytes(_DONE + pickle.dumps(_parse_share(sender, job, parse, settings)))
    except FileRejected as exc:
        sender.send_bytes(_REJECTED + pickle.dumps((exc.errors, exc.total_errors)))
    except (BrokenPipeError, ConnectionResetError):
        pass  # the importer stopped reading: nothing left to tell it
    except BaseException as exc:  # reported to the importer, which raises
        sender.send_bytes(_FAILED + pickle.dumps(repr(exc)))
    finally:
        sender.close()


def _parse_share(
    sender: Connection, job: Share, parse: ShareParser, settings: tuple[int, int | None]
) -> tuple[int, list[RowError], int]:
    keep, max_rows = settings
    import_row_limit.set(max_rows)
    errors = ErrorCollector(file=job.name, keep=keep)
    count, block = 0, []
    for line in parse(job, errors):
        count += 1
        if line is None:
            continue
        block.append(line)
        if len(block) == _BLOCK_ROWS:
            sender.send_bytes(_DATA + "".join(block).encode("utf-8"))
            block = []
    if block:
        sender.send_bytes(_DATA + "".join(block).encode("utf-8"))
    return count, errors.errors, errors.total


_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def copy_text(value: str | None) -> str:
    """A text value in COPY's text format (NULL as \\N). Most values need no escape, and
    looking for the four characters is several times cheaper than translating."""
    if value is None:
        return NULL
    if "\\" in value or "\t" in value or "\n" in value or "\r" in value:
        return value.translate(_ESCAPES)
    return value

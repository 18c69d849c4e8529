"""Parsing a large revenue file in worker processes while PostgreSQL ingests it
(`app.imports.parallel`: each worker validates every n-th row and sends COPY text).

Validating a revenue row in Python (the core's parsers) costs 6-8 us; staging a
200,000-row file that way took 1.9 s of a ~9 s import, with PostgreSQL mostly idle (1.2 s
with two workers on two cores, bench/ledger_results.md).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from app.imports import parallel
from app.imports.csvfile import ErrorCollector, open_text, read_rows
from app.imports.parallel import MAX_WORKERS, PARALLEL_FROM_BYTES, Share, workers_for
from app.journal.revenue_import.row_parser import DEFAULT_MAX_AMOUNT_FEN, REQUIRED, RevenueRowParser

__all__ = ["MAX_WORKERS", "PARALLEL_FROM_BYTES", "copy_blocks", "copy_line", "workers_for"]


def copy_blocks(
    *, path: Path, name: str, now: datetime, errors: ErrorCollector, workers: int,
    counted: Callable[[int], None], max_amount_fen: int = DEFAULT_MAX_AMOUNT_FEN,
) -> Iterator[bytes]:  # fmt: skip
    """COPY text blocks of every good row; bad rows go to ``errors``, the number of data
    rows to ``counted`` once all workers are done. A malformed file raises FileRejected."""

    def parse(share: Share, found: ErrorCollector) -> Iterator[str | None]:
        parser = RevenueRowParser(errors=found, now=now, max_amount_fen=max_amount_fen)
        with open_text(share.path) as stream:
            for row in read_rows(stream, file=share.name, required=REQUIRED,
                                 share=(share.share, share.shares)):  # fmt: skip
                parsed = parser.parse(row)
                yield None if parsed is None else copy_line(parsed)

    return parallel.copy_blocks(path=path, name=name, errors=errors, workers=workers,
                                parse=parse, counted=counted)  # fmt: skip


def copy_line(row: tuple[Any, ...]) -> str:
    """One stage row (``stage.STAGE_COLUMNS``) in COPY's text format.

    Ids are printable (the core refuses tabs and line breaks), so a backslash is the only
    character to escape; channel names have none. The instant is written
    in UTC so that no zone's historical offset has to be understood by the server.
    """
    line, event_id, external_id, channel, revenue_type, amount, occurred_at = row
    return (
        f"{line}\t{_escaped(event_id)}\t{_escaped(external_id)}\t"
        f"{parallel.NULL if channel is None else channel}\t{revenue_type}\t{amount}\t"
        f"{occurred_at.astimezone(UTC).isoformat()}\n"
    )


def _escaped(value: str) -> str:
    return value.replace("\\", "\\\\") if "\\" in value else value

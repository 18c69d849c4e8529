"""Staging a large lead file from worker processes (`app.imports.parallel`), for the CLI.

Validating a lead row (locating it, keying and sealing its mobile) is most of a big import's
Python time: about 37 s of a 1.3M-row import at load ~1. Each worker validates every n-th row
with the same `LeadRowParser` and sends the stage rows as COPY text.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC
from pathlib import Path
from typing import Any

from app.imports import parallel
from app.imports.csvfile import ErrorCollector, read_rows
from app.imports.encoding import CODECS
from app.imports.parallel import Share, copy_text
from app.leads.rows import REQUIRED, LeadRowParser
from app.privacy.cipher import MobileCipher


def copy_blocks(
    *, path: Path, name: str, encoding: str, errors: ErrorCollector, workers: int,
    default_channel: str | None, secret: bytes, cipher: MobileCipher,
    counted: Callable[[int], None],
) -> Iterator[bytes]:  # fmt: skip
    """COPY text blocks of every good row of a CSV file in `encoding` (checked already)."""

    def parse(share: Share, found: ErrorCollector) -> Iterator[str | None]:
        parser = LeadRowParser(default_channel=default_channel, secret=secret, errors=found,
                               cipher=cipher)  # fmt: skip
        with share.path.open("r", encoding=CODECS[encoding], newline="") as stream:
            for row in read_rows(stream, file=share.name, required=REQUIRED,
                                 share=(share.share, share.shares)):  # fmt: skip
                staged = parser.parse(row)
                yield None if staged is None else copy_line(staged)

    return parallel.copy_blocks(path=path, name=name, errors=errors, workers=workers,
                                parse=parse, counted=counted)  # fmt: skip


def copy_line(row: tuple[Any, ...]) -> str:
    """One stage row (`staging.STAGE_COLUMNS`) in COPY's text format: floats in their exact
    shortest form, the instant in UTC."""
    line, channel, external_id, key, name, mobile, tier, lat, lon, region, source, acquired = row
    cells = (
        str(line), copy_text(channel), copy_text(external_id), key, copy_text(name),
        copy_text(mobile), copy_text(tier), _number(lat), _number(lon), copy_text(region),
        copy_text(source),
        parallel.NULL if acquired is None else acquired.astimezone(UTC).isoformat(),
    )  # fmt: skip
    return "\t".join(cells) + "\n"


def _number(value: float | None) -> str:
    return parallel.NULL if value is None else repr(value)

"""Staging a large lead file from worker processes (`app.imports.parallel`), for the CLI.

Validating a lead row (locating it, keying and sealing its mobile) is most of a big import's
Python time: about 37 s of a 1.3M-row import at load ~1. Each worker validates every n-th row
with the same `LeadRowParser` (through `StageLines`) and sends the stage rows as COPY text.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

from app.imports import parallel
from app.imports.csvfile import ErrorCollector, read_rows
from app.imports.encoding import CODECS
from app.imports.parallel import Share
from app.leads.rows import REQUIRED, LeadRowParser
from app.leads.stage_lines import StageLines
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
        line_of = StageLines(parser)
        with share.path.open("r", encoding=CODECS[encoding], newline="") as stream:
            for row in read_rows(stream, file=share.name, required=REQUIRED,
                                 share=(share.share, share.shares)):  # fmt: skip
                yield line_of(row)

    return parallel.copy_blocks(path=path, name=name, errors=errors, workers=workers,
                                parse=parse, counted=counted)  # fmt: skip

"""The rows of a lead or branch file as users have them: CSV in UTF-8 or GB18030/GBK.

Every reader yields the same `CsvRow`s (header names lower-cased, cells as text, line numbers
counted from the header as line 1), so the importers validate one way whatever the file was.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from app.imports.csvfile import CsvRow, open_text, read_rows
from app.imports.encoding import CODECS, Encoding

ENCODING_OF_CODEC = {codec: name for name, codec in CODECS.items()}


@dataclass(frozen=True, slots=True)
class Reading:
    """How to read an import file; 'auto' detects it."""

    encoding: Encoding = "auto"


@dataclass(frozen=True, slots=True)
class OpenedFile:
    """The rows of a file and what it turned out to be."""

    rows: Iterator[CsvRow]
    file_format: str  # "csv"
    encoding: str | None  # "utf-8" or "gb18030" for CSV


@contextmanager
def open_rows(
    path: Path, *, file: str, required: tuple[str, ...], reading: Reading
) -> Iterator[OpenedFile]:
    """The data rows of `path`, which errors call `file`; raises FileRejected when unreadable."""
    with open_text(path, encoding=reading.encoding, file=file) as stream:
        rows = read_rows(stream, file=file, required=required)
        yield OpenedFile(rows=rows, file_format="csv", encoding=ENCODING_OF_CODEC[stream.encoding])

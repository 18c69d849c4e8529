"""Streaming CSV reading shared by every importer: BOM, header checks, exact line numbers."""

from __future__ import annotations

import csv
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, TextIO

from allocation_files.reading import MAX_COLUMNS, MAX_LINE_CHARS
from app.errors import FileRejected, RowError
from app.imports.encoding import CODECS, Encoding, resolve_encoding
from app.limits import import_row_limit
from coded_messages import Message, message

# Large but finite: one absurd cell should be an error, not an out-of-memory.
csv.field_size_limit(1 << 20)


@dataclass(frozen=True, slots=True)
class CsvRow:
    line: int
    values: dict[str, str]

    def get(self, column: str) -> str:
        """The stripped cell, or '' when the column is absent or empty."""
        return (self.values.get(column) or "").strip()


def open_text(path: Path, *, encoding: Encoding | None = None, file: str | None = None) -> TextIO:
    """The file as text for `read_rows`.

    `encoding` None is UTF-8 checked while reading (what the revenue import has always read).
    A declared 'utf-8' or 'gb18030', or 'auto' (UTF-8 when every byte decodes as UTF-8, else
    GB18030), is checked over the whole file first (app.imports.encoding): an undecodable byte
    is refused before any row is read, naming `file` (default: the path's name), the line and
    the byte.
    """
    if encoding is not None:
        encoding = resolve_encoding(path, declared=encoding, file=file or path.name)
    # utf-8-sig accepts and drops a BOM; newline='' lets csv handle quoted line breaks.
    return path.open("r", encoding=CODECS[encoding or "utf-8"], newline="")


def read_rows(
    stream: IO[str], *, file: str, required: tuple[str, ...], share: tuple[int, int] = (0, 1)
) -> Iterator[CsvRow]:
    """Yield rows as dicts keyed by lower-cased header; unknown columns are kept but unused.

    ``share=(k, n)`` yields only the data rows whose ordinal is k modulo n (one of n parsers
    reading the same file); every row is still counted and checked for its shape.
    """
    mine, shares = share
    reader = csv.reader(_bounded_lines(stream, file=file))
    header = _read_header(reader, file=file, required=required)
    max_rows, rows, width = import_row_limit.get(), 0, len(header)
    try:
        for cells in reader:
            # Blank lines are not rows; a first cell with text saves joining the row.
            if not (cells and cells[0].strip()) and not "".join(cells).strip():
                continue
            rows += 1
            if max_rows is not None and rows > max_rows:
                raise too_many_rows(file, line=reader.line_num, max_rows=max_rows)
            if len(cells) > width:
                too_many = message("import.too_many_cells", cells=len(cells), columns=width)
                raise _rejected(file, reader.line_num, too_many)
            if shares == 1 or rows % shares == mine:
                # Fewer cells than columns is fine (missing cells read as ''); zip's
                # strict=False, as a keyword, costs ~0.15 us a row.
                yield CsvRow(reader.line_num, dict(zip(header, cells)))  # noqa: B905
    except UnicodeDecodeError as exc:
        not_utf8 = message("import.not_utf8", detail=exc.reason)
        raise _rejected(file, reader.line_num + 1, not_utf8) from exc
    except csv.Error as exc:
        malformed = message("import.malformed_csv", detail=str(exc))
        raise _rejected(file, reader.line_num, malformed) from exc


def _bounded_lines(stream: IO[str], *, file: str) -> Iterator[str]:
    """The stream's lines, refusing one longer than MAX_LINE_CHARS before it is all in memory
    (a 200 MB line of commas would otherwise become a list of 100 million cells)."""
    line_number = 0
    while line := stream.readline(MAX_LINE_CHARS + 1):
        line_number += 1
        if len(line) > MAX_LINE_CHARS:
            raise _rejected(file, line_number, message("import.line_too_long", max=MAX_LINE_CHARS))
        yield line


def _rejected(file: str, line: int, reason: Message) -> FileRejected:
    """The whole file refused for one problem (its shape, not a cell's value)."""
    return FileRejected(file=file, errors=[RowError.of(file, line, "*", reason)], total_errors=1)


def too_many_rows(file: str, *, line: int, max_rows: int) -> FileRejected:
    return _rejected(file, line, message("import.too_many_rows", max=max_rows))


def _read_header(reader: Any, *, file: str, required: tuple[str, ...]) -> list[str]:
    try:
        # A BOM left by an encoding other than UTF-8 (GB18030 has one too) is not a name.
        header = [name.strip().lstrip("\ufeff").lower() for name in next(reader)]
    except StopIteration:
        raise _rejected(file, 1, message("import.empty_file")) from None
    except UnicodeDecodeError as exc:
        raise _rejected(file, 1, message("import.not_utf8", detail=exc.reason)) from exc
    return check_header(header, file=file, required=required)


def check_header(header: list[str], *, file: str, required: tuple[str, ...]) -> list[str]:
    """The header names (lower-cased) when there are not too many, none repeats and every
    required one is there; else FileRejected naming each problem at line 1."""
    if len(header) > MAX_COLUMNS:
        too_wide = message("import.too_many_columns", count=len(header), max=MAX_COLUMNS)
        raise _rejected(file, 1, too_wide)
    counts = Counter(header)  # linear: a header may be long
    duplicates = sorted(name for name, count in counts.items() if count > 1 and name)
    missing = [name for name in required if name not in header]
    errors = [RowError.of(file, 1, name, message("import.missing_column")) for name in missing]
    errors += [
        RowError.of(file, 1, name, message("import.duplicate_column")) for name in duplicates
    ]
    if errors:
        raise FileRejected(file=file, errors=errors, total_errors=len(errors))
    return header


class ErrorCollector:
    """Collects every bad row; keeps the first `keep` in full so memory stays bounded."""

    def __init__(self, *, file: str, keep: int = 1000) -> None:
        self.file = file
        self.keep = keep
        self.errors: list[RowError] = []
        self.total = 0

    def add(self, line: int, column: str, reason: str | Message) -> None:
        self.total += 1
        if len(self.errors) < self.keep:
            self.errors.append(RowError.of(self.file, line, column, reason))

    def absorb(self, errors: list[RowError], total: int) -> None:
        """Take in another collector's findings (a parser of another share of the file)."""
        self.total += total
        merged = sorted(self.errors + errors, key=lambda error: error.line)  # stable per line
        self.errors = merged[: self.keep]

    def raise_if_any(self) -> None:
        if self.total:
            raise FileRejected(file=self.file, errors=self.errors, total_errors=self.total)

"""The rows of a lead or branch file as users have them: CSV (UTF-8 or GB18030/GBK) or XLSX.

Every reader yields the same `CsvRow`s (header names lower-cased, cells as text, line numbers
counted from the header as line 1; in a workbook, the sheet's row numbers), so the importers
validate one way whatever the file was.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from app.errors import FileRejected, RowError
from app.imports.csvfile import CsvRow, open_text, read_rows
from app.imports.encoding import CODECS, Encoding
from app.imports.xlsxfile import open_sheet
from coded_messages import message

FileFormat = Literal["auto", "csv", "xlsx"]
FORMATS: tuple[FileFormat, ...] = ("auto", "csv", "xlsx")
ENCODING_OF_CODEC = {codec: name for name, codec in CODECS.items()}
ZIP_MAGIC = b"PK\x03\x04"  # an .xlsx is a zip archive
OLE_MAGIC = b"\xd0\xcf\x11\xe0"  # Excel 97-2003 (.xls) and other Office binary files
XLSX_SUFFIXES = (".xlsx", ".xlsm")


@dataclass(frozen=True, slots=True)
class Reading:
    """How to read an import file; 'auto' detects it."""

    encoding: Encoding = "auto"  # of a CSV file
    file_format: FileFormat = "auto"


@dataclass(frozen=True, slots=True)
class OpenedFile:
    """The rows of a file and what it turned out to be."""

    rows: Iterator[CsvRow]
    file_format: Literal["csv", "xlsx"]
    encoding: str | None  # "utf-8" or "gb18030" for CSV; None for a workbook
    sheet: str | None = None  # the worksheet read


def parse_format(value: str) -> FileFormat:
    lowered = value.strip().lower()
    if lowered in FORMATS:
        return lowered
    raise ValueError(f"unknown format '{value}'; use one of {', '.join(FORMATS)}")


@contextmanager
def open_rows(
    path: Path, *, file: str, required: tuple[str, ...], reading: Reading
) -> Iterator[OpenedFile]:
    """The data rows of `path`, which errors call `file`; raises FileRejected when unreadable."""
    if detect_format(path, file=file, declared=reading.file_format) == "xlsx":
        with open_sheet(path, file=file, required=required) as sheet:
            yield OpenedFile(rows=sheet.rows, file_format="xlsx", encoding=None, sheet=sheet.name)
        return
    with open_text(path, encoding=reading.encoding, file=file) as stream:
        rows = read_rows(stream, file=file, required=required)
        yield OpenedFile(rows=rows, file_format="csv", encoding=ENCODING_OF_CODEC[stream.encoding])


def detect_format(path: Path, *, file: str, declared: FileFormat) -> Literal["csv", "xlsx"]:
    """A declared format, else the content's signature, else the name's extension."""
    if declared != "auto":
        return declared
    with path.open("rb") as handle:
        magic = handle.read(4)
    if magic == ZIP_MAGIC:
        return "xlsx"
    if magic == OLE_MAGIC:
        old_excel = RowError.of(file, 1, "*", message("import.old_excel"))
        raise FileRejected(file=file, errors=[old_excel], total_errors=1)
    return "xlsx" if file.lower().endswith(XLSX_SUFFIXES) else "csv"

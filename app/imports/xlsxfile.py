"""Rows of an Excel workbook (.xlsx): the first worksheet, row 1 the header, streamed.

Errors are located as in CSV: `file.xlsx:7: column 'mobile': ...` is row 7 of the sheet (the
row number Excel shows) in the column headed `mobile`. Cells right of the header are ignored,
as unknown columns are. A formula cell gives the value Excel computed when it saved the file.

A workbook is a zip archive, and a small one can unpack to gigabytes. Before openpyxl opens
it, the sizes the archive declares are bounded (zipfile stops at a member's declared size, so
a member cannot unpack past it); the sheet is then streamed (read-only mode), its XML parsed
by defusedxml (no entity expansion), and its rows counted against the import row limit and
the worksheet's own maximum.
"""

from __future__ import annotations

import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import openpyxl

from allocation_files.reading import MAX_COLUMNS
from app.errors import FileRejected, RowError
from app.imports.csvfile import CsvRow, check_header, too_many_rows
from app.imports.xlsx_cells import cell_text
from app.limits import import_row_limit
from coded_messages import Message, message

MAX_UNPACKED_BYTES = 1 << 30  # the whole workbook; a 1M-row lead sheet is ~400 MB of XML
MAX_SHARED_STRINGS_BYTES = 256 << 20  # read into memory whole by openpyxl
MAX_MEMBERS = 10_000
SHEET_ROWS = 1_048_576  # Excel's own limit: past it a sheet is forged, not saved by Excel
SHARED_STRINGS = "xl/sharedStrings.xml"
# What openpyxl said about an unreadable workbook, cut so the whole reason stays under 300.
UNREADABLE_DETAIL_CHARS = 300 - len("not a readable Excel workbook (.xlsx): ")


@dataclass(frozen=True, slots=True)
class Sheet:
    name: str
    rows: Iterator[CsvRow]


@contextmanager
def open_sheet(path: Path, *, file: str, required: tuple[str, ...]) -> Iterator[Sheet]:
    """The first sheet's data rows, while the workbook is open."""
    check_archive(path, file=file)
    # A file object, not the path: openpyxl would refuse a workbook by its name's extension.
    with path.open("rb") as handle:
        try:
            workbook = openpyxl.load_workbook(handle, read_only=True, data_only=True)
        except Exception as exc:  # any failure to parse a user's file is a refusal, not a 500
            raise unreadable(file, exc) from exc
        try:
            if not workbook.worksheets:
                raise rejected(file, 1, message("import.no_worksheet"))
            sheet = workbook.worksheets[0]
            sheet.reset_dimensions()  # the declared size may be wrong: read what is there
            header = _header(sheet, file=file, required=required)
            yield Sheet(name=sheet.title, rows=_rows(sheet, header, file=file))
        finally:
            workbook.close()


def check_archive(path: Path, *, file: str) -> None:
    """Refuse what is not a zip archive, or one whose declared contents are too large."""
    try:
        with zipfile.ZipFile(path) as archive:
            members = archive.infolist()
    except (zipfile.BadZipFile, OSError) as exc:
        raise unreadable(file, exc) from exc
    unpacked = sum(member.file_size for member in members)
    strings = sum(m.file_size for m in members if m.filename == SHARED_STRINGS)
    if len(members) > MAX_MEMBERS or unpacked > MAX_UNPACKED_BYTES:
        mb = MAX_UNPACKED_BYTES >> 20
        raise rejected(file, 1, message("import.workbook_too_big", mb=mb))
    if strings > MAX_SHARED_STRINGS_BYTES:
        mb = MAX_SHARED_STRINGS_BYTES >> 20
        raise rejected(file, 1, message("import.workbook_text_too_big", mb=mb))


def _header(sheet: Any, *, file: str, required: tuple[str, ...]) -> list[str]:
    first = next(sheet.iter_rows(min_row=1, max_row=1, max_col=MAX_COLUMNS + 1), ())
    names = [cell_text(cell.value).strip().lower() for cell in first]
    while names and not names[-1]:
        names.pop()
    if not names:
        raise rejected(file, 1, message("import.empty_sheet"))
    return check_header(names, file=file, required=required)


def _rows(sheet: Any, header: list[str], *, file: str) -> Iterator[CsvRow]:
    max_rows, count, line = import_row_limit.get(), 0, 1
    try:
        for row in sheet.iter_rows(min_row=2, max_col=len(header)):
            line += 1  # openpyxl yields the rows the sheet leaves out as empty ones
            if line > SHEET_ROWS:
                raise rejected(file, line, message("import.sheet_too_long", max=SHEET_ROWS))
            texts = [cell_text(cell.value, _number_format(cell)) for cell in row]
            if not "".join(texts).strip():
                continue  # blank rows are not rows
            count += 1
            if max_rows is not None and count > max_rows:
                raise too_many_rows(file, line=line, max_rows=max_rows)
            yield CsvRow(line=line, values=dict(zip(header, texts, strict=False)))
    except FileRejected:
        raise
    except Exception as exc:  # a corrupt part found while streaming
        raise unreadable(file, exc, line=line + 1) from exc


def _number_format(cell: Any) -> str | None:
    value = cell.value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(cell.number_format)
    return None


def unreadable(file: str, exc: BaseException, *, line: int = 1) -> FileRejected:
    """The first cause, which says what was wrong (openpyxl's wrapper names server paths)."""
    while exc.__cause__ is not None:
        exc = exc.__cause__
    first_line = str(exc).splitlines()[0] if str(exc) else ""
    detail = f"{type(exc).__name__}: {first_line}"[:UNREADABLE_DETAIL_CHARS]
    return rejected(file, line, message("import.unreadable_workbook", detail=detail))


def rejected(file: str, line: int, reason: Message) -> FileRejected:
    return FileRejected(file=file, errors=[RowError.of(file, line, "*", reason)], total_errors=1)

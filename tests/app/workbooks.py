"""Excel workbooks for import tests, built in the test with openpyxl (as Excel would store them:
numbers as numbers, dates as dates)."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

import openpyxl

SHEET_XML = "xl/worksheets/sheet1.xml"

# Mobile numbers and region codes typed into Excel as numbers, one mobile as a float (what a
# computed or pasted number is), a name that looks like a formula but is text, a date cell.
LEAD_ROWS: list[list[object]] = [
    ["external_id", "channel", "name", "mobile", "tier", "lat", "lon", "region_code",
     "acquired_at"],
    ["X1", "app", "=1+2", 13800138000, "affluent", 22.54, 114.06, None,
     datetime(2026, 11, 1, 9, 30)],
    ["X2", "app", "+李四", 13912345678.0, None, None, None, 440304, None],
    ["X3", "app", "王五", None, "mass", None, None, None, None],
]  # fmt: skip

# Tuples: a test that wants a changed row builds its own (an edited shared row leaked into
# every later test of the process).
BRANCH_ROWS: tuple[tuple[object, ...], ...] = (
    ("code", "name", "lat", "lon", "capacity", "tiers", "region_code", "active"),
    ("SZ-FT", "深圳福田营业部", 22.541, 114.055, 100, None, 440304, True),
    ("BJ-CY", "北京朝阳营业部", 39.921, 116.443, 80.0, "mass|affluent", 110105, True),
    ("SH-PD", "上海浦东营业部", 31.221, 121.544, 50, None, 310115, False),
)


def workbook_bytes(rows: Sequence[Sequence[object]], *, title: str = "Sheet1") -> bytes:
    """A one-sheet workbook; a str starting with '=' is stored as text, not as a formula."""
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = title
    for r, row in enumerate(rows, start=1):
        for c, value in enumerate(row, start=1):
            cell = sheet.cell(row=r, column=c, value=value)
            if isinstance(value, str) and value.startswith("="):
                cell.data_type = "s"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def write_workbook(folder: Path, name: str, rows: Sequence[Sequence[object]]) -> Path:
    path = folder / name
    path.write_bytes(workbook_bytes(rows))
    return path


def with_sheet_xml(data: bytes, sheet_xml: bytes) -> bytes:
    """The workbook `data` with its first sheet's XML replaced (a forged or hostile sheet)."""
    source = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for item in source.infolist():
            body = sheet_xml if item.filename == SHEET_XML else source.read(item.filename)
            target.writestr(item.filename, body)
    return out.getvalue()

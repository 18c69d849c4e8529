"""The accountants' export (issue 17.6): Chinese headers, yuan, branch names, real dates and a
totals row, in CSV and XLSX; the canonical export stays byte for byte what it was."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime
from pathlib import Path

import openpyxl
from sqlalchemy.engine import Engine

from app.db import session_scope
from app.journal.export import period_file
from ledger.accountant_export import ACCOUNTANT_COLUMNS, yuan
from ledger.periods import Period
from tests.app.ledger_world import HEADER, import_csv

NOW = datetime(2026, 11, 25, 4, 0, tzinfo=UTC)
EVENTS = HEADER + (
    "=HYPERLINK(1),A1,brokerage_commission,100.50,2026-10-05T10:00:00,app\n"
    "E2,B1,product_fee,20.01,2026-10-10T10:00:00,app\n"
)


def _export(engine: Engine, tmp_path: Path, fmt: str) -> period_file.ExportResult:
    with session_scope(engine) as session:
        return period_file.export_period(session, period=Period(2026, 10), fmt=fmt,
                                         out=tmp_path / f"acc.{fmt}", actor="test",
                                         layout="accountant")  # fmt: skip


def test_yuan_is_exact_to_the_fen() -> None:
    assert [yuan(f) for f in (0, 5, 12050, 100, -5, 123456789)] == [
        "0.00", "0.05", "120.50", "1.00", "-0.05", "1234567.89",
    ]  # fmt: skip


def test_the_csv_reads_in_chinese_with_yuan_names_and_a_totals_row(
    ledger_engine: Engine, tmp_path: Path
) -> None:
    import_csv(ledger_engine, tmp_path, EVENTS, now=NOW)
    result = _export(ledger_engine, tmp_path, "csv")
    rows = list(csv.reader(io.StringIO((tmp_path / "acc.csv").read_text(encoding="utf-8-sig"))))
    assert tuple(rows[0]) == ACCOUNTANT_COLUMNS
    body, total = rows[1:-1], rows[-1]
    assert len(body) == result.rows == 4
    assert {r[1] for r in body} == {"'=HYPERLINK(1)", "E2"}  # formulas stay text
    assert body[0][2] == "2026-10-05 10:00:00"  # Shanghai wall-clock time
    branch_rows = [r for r in body if r[6]]
    assert branch_rows
    assert all(r[7].endswith("营业部") for r in branch_rows)  # the branch's name
    assert total[0] == "合计"
    assert total[8] == total[9] == "120.51"
    assert sorted(r[8] for r in body if r[8] != "0.00") == ["100.50", "20.01"]


def test_the_workbook_has_date_cells_yuan_numbers_and_no_formulas(
    ledger_engine: Engine, tmp_path: Path
) -> None:
    import_csv(ledger_engine, tmp_path, EVENTS, now=NOW)
    _export(ledger_engine, tmp_path, "xlsx")
    sheet = openpyxl.load_workbook(tmp_path / "acc.xlsx").active
    assert sheet is not None
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0] == ACCOUNTANT_COLUMNS
    assert isinstance(rows[1][2], datetime)
    assert rows[1][2] == datetime(2026, 10, 5, 10, 0)
    assert rows[-1][0] == "合计"
    assert rows[-1][8] == rows[-1][9] == 120.51
    assert sheet.cell(row=2, column=9).number_format == "#,##0.00"
    assert not any(isinstance(v, str) and v.startswith("=") for row in rows for v in row)


def test_the_canonical_export_is_unchanged_by_the_new_layout(
    ledger_engine: Engine, tmp_path: Path
) -> None:
    import_csv(ledger_engine, tmp_path, EVENTS, now=NOW)
    with session_scope(ledger_engine) as session:
        plain = period_file.export_period(session, period=Period(2026, 10), fmt="csv",
                                          out=tmp_path / "plain.csv", actor="test")  # fmt: skip
    assert (tmp_path / "plain.csv").read_bytes().startswith(b"\xef\xbb\xbfentry_id,event_id")
    assert plain.rows == 4

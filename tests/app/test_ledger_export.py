"""Exports: exact columns, BOM, formula-safe, deterministic bytes, audited; XLSX ids as text."""

from __future__ import annotations

import csv
import io
import json
import zipfile
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import select

from app.db import session_scope
from app.journal.export import period_file
from app.tables import AuditRecord
from ledger.export import EXPORT_COLUMNS
from ledger.periods import Period
from tests.app.ledger_world import HEADER, import_csv

TRICKY = HEADER + (
    "=HYPERLINK(1),A1,brokerage_commission,100.50,2026-10-05T10:00:00.123456,app\n"
    "-5,B1,product_fee,20.01,2026-10-10T10:00:00,app\n"
    '"E,""q""",C1,other,-3,2026-10-11T10:00:00,app\n'
    "@x,A1,other,7,2026-09-30T16:00:00Z,app\n"
)
NOW = datetime(2026, 11, 25, 4, 0, 0, 654321, tzinfo=UTC)


def run_export(
    engine: Engine, tmp_path: Path, *, fmt: str = "csv", name: str = "out", use_copy: bool = True
) -> period_file.ExportResult:
    with session_scope(engine) as session:
        return period_file.export_period(session, period=Period(2026, 10), fmt=fmt,
                                    out=tmp_path / f"{name}.{fmt}", actor="test",
                                    use_copy=use_copy)  # fmt: skip


@pytest.fixture
def exported(ledger_engine: Engine, tmp_path: Path) -> Engine:
    import_csv(ledger_engine, tmp_path, TRICKY, now=NOW)
    return ledger_engine


def test_the_csv_has_a_bom_the_exact_columns_and_escaped_formulas(
    exported: Engine, tmp_path: Path
) -> None:
    result = run_export(exported, tmp_path)
    raw = (tmp_path / "out.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbfentry_id,event_id,occurred_at,posted_at,period,")
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))
    assert tuple(rows[0]) == EXPORT_COLUMNS
    body = rows[1:]
    assert len(body) == result.rows == 8  # 4 events x (clearing + revenue side); KPI excluded
    events = {row[1] for row in body}
    assert events == {"'=HYPERLINK(1)", "'-5", 'E,"q"', "'@x"}
    assert not any(cell.startswith(("=", "+", "-", "@")) for row in body for cell in row)
    assert [row[1] for row in body[::2]] == ["'=HYPERLINK(1)", "'-5", 'E,"q"', "'@x"]
    assert body[0][2] == "2026-10-05T10:00:00.123456+08:00"
    assert body[0][3] == "2026-11-25T12:00:00.654321+08:00"
    assert body[-1][2] == "2026-10-01T00:00:00+08:00"  # 16:00Z is Shanghai midnight
    assert all(row[4] == "2026-10" for row in body)
    for row in body:
        debit, credit = int(row[7]), int(row[8])
        assert min(debit, credit) == 0
        assert max(debit, credit) > 0
        assert row[6] == (row[5].split(":")[1] if row[5].startswith("branch:") else "")
    assert result.debit_fen == result.credit_fen == 10050 + 2001 + 300 + 700


def test_re_exporting_gives_the_same_bytes_on_every_path(exported: Engine, tmp_path: Path) -> None:
    first = run_export(exported, tmp_path, name="a")
    second = run_export(exported, tmp_path, name="b")
    python = run_export(exported, tmp_path, name="c", use_copy=False)
    assert first.sha256 == second.sha256 == python.sha256
    assert (tmp_path / "a.csv").read_bytes() == (tmp_path / "c.csv").read_bytes()


def test_every_export_is_audited_with_count_totals_and_hash(
    exported: Engine, tmp_path: Path
) -> None:
    result = run_export(exported, tmp_path)
    with session_scope(exported) as session:
        record = session.exec(
            select(AuditRecord).where(AuditRecord.action == "ledger.export")
        ).one()
    detail = json.loads(record.detail)
    assert detail["rows"] == result.rows
    assert detail["sha256"] == result.sha256
    assert detail["debit_fen"] == detail["credit_fen"] == result.debit_fen


def test_the_xlsx_carries_the_same_rows_with_ids_as_text(exported: Engine, tmp_path: Path) -> None:
    result = run_export(exported, tmp_path, fmt="xlsx")
    again = run_export(exported, tmp_path, fmt="xlsx", name="again")
    assert result.rows == 8
    assert result.sha256 == again.sha256
    with zipfile.ZipFile(tmp_path / "out.xlsx") as book:
        sheet = book.read("xl/worksheets/sheet1.xml").decode("utf-8")
    assert sheet.count("<row ") == 9
    assert 't="s"' in sheet or 't="inlineStr"' in sheet
    assert "<f>" not in sheet  # no formulas anywhere


FULL_WIDTH = HEADER + (
    "\uff1dSUM(1),A1,brokerage_commission,1.00,2026-10-05T10:00:00,app\n"
    "\uff20x,A1,brokerage_commission,2.00,2026-10-06T10:00:00,app\n"
    "\uff0d5,A1,brokerage_commission,3.00,2026-10-07T10:00:00,app\n"
    "\uff0b5,A1,brokerage_commission,4.00,2026-10-08T10:00:00,app\n"
)


@pytest.mark.parametrize("use_copy", [True, False], ids=["copy", "python"])
def test_full_width_formula_characters_are_escaped_on_every_path(
    ledger_engine: Engine, tmp_path: Path, use_copy: bool
) -> None:
    import_csv(ledger_engine, tmp_path, FULL_WIDTH, now=NOW)
    run_export(ledger_engine, tmp_path, use_copy=use_copy)
    raw = (tmp_path / "out.csv").read_text(encoding="utf-8-sig")
    events = {row[1] for row in list(csv.reader(io.StringIO(raw)))[1:]}
    assert events == {"'\uff1dSUM(1)", "'\uff20x", "'\uff0d5", "'\uff0b5"}

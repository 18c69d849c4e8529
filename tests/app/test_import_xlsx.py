"""Lead and branch imports from Excel workbooks: the same rows, checks and errors as CSV."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import openpyxl
import openpyxl.xml
import pytest
import xlsxwriter
from sqlmodel import select
from typer.testing import CliRunner

from app.branches.importer import import_branches
from app.cli import cli
from app.config import Settings, get_settings
from app.db import make_engine, session_scope
from app.errors import FileRejected
from app.imports import xlsxfile
from app.imports.report import ImportReport
from app.imports.source import Reading
from app.leads.importer import import_leads
from app.limits import import_row_limit
from app.privacy.cipher import MobileCipher
from app.tables import Branch, Lead
from tests.app.workbooks import (
    BRANCH_ROWS,
    LEAD_ROWS,
    with_sheet_xml,
    workbook_bytes,
    write_workbook,
)


def _leads(settings: Settings, path: Path, reading: Reading = Reading()) -> ImportReport:
    with session_scope(make_engine(settings)) as session:
        return import_leads(
            session, path=path, actor="test", secret=settings.customer_key, reading=reading
        )


def _stored_leads(settings: Settings) -> dict[str, Lead]:
    with session_scope(make_engine(settings)) as session:
        return {lead.external_id: lead for lead in session.exec(select(Lead))}


def _rejection(settings: Settings, path: Path) -> list[tuple[int, str, str]]:
    with pytest.raises(FileRejected) as caught:
        _leads(settings, path)
    assert _stored_leads(settings) == {}
    return [(e.line, e.column, e.reason) for e in caught.value.errors]


def test_a_lead_workbook_imports_numbers_dates_and_formula_looking_text_as_typed(
    settings: Settings, tmp_path: Path
) -> None:
    report = _leads(settings, write_workbook(tmp_path, "leads.xlsx", LEAD_ROWS))
    assert (report.rows, report.inserted) == (3, 3)
    assert (report.file_format, report.encoding, report.sheet) == ("xlsx", None, "Sheet1")
    leads = _stored_leads(settings)
    cipher = MobileCipher(settings.data_key_bytes)
    assert cipher.open(leads["X1"].mobile) == "13800138000"  # a number cell, not 1.38e10
    assert cipher.open(leads["X2"].mobile) == "13912345678"  # a float cell, not ...678.0
    assert leads["X1"].name == "=1+2"  # text that looks like a formula stays that text
    assert leads["X2"].name == "+李四"
    assert leads["X2"].location_source == "region_code"  # 440304 typed as a number
    assert leads["X1"].acquired_at is not None
    assert leads["X1"].acquired_at.isoformat() == "2026-11-01T01:30:00+00:00"  # Beijing 09:30


def test_a_formula_cell_gives_the_value_excel_computed(settings: Settings, tmp_path: Path) -> None:
    path = tmp_path / "computed.xlsx"
    book = xlsxwriter.Workbook(str(path))
    sheet = book.add_worksheet()
    sheet.write_row(0, 0, ["external_id", "channel", "name", "mobile"])
    sheet.write_row(1, 0, ["F1", "app"])
    sheet.write_formula(1, 2, '=CONCATENATE("张","三")', None, "张三")
    sheet.write_formula(1, 3, "=13800138000+0", None, 13800138000)
    book.close()
    _leads(settings, path)
    lead = _stored_leads(settings)["F1"]
    assert lead.name == "张三"
    assert MobileCipher(settings.data_key_bytes).open(lead.mobile) == "13800138000"


def test_bad_cells_are_named_by_sheet_row_and_column_header(
    settings: Settings, tmp_path: Path
) -> None:
    rows = [*LEAD_ROWS[:2], [], ["B1", "app", "坏", 13800138001, "vip", 95.0, 114.0]]
    errors = _rejection(settings, write_workbook(tmp_path, "bad.xlsx", rows))
    assert [(line, column) for line, column, _ in errors] == [(4, "tier"), (4, "lat")]
    assert "'vip' is not a tier" in errors[0][2]


def test_a_missing_required_column_is_named_at_row_1(settings: Settings, tmp_path: Path) -> None:
    errors = _rejection(settings, write_workbook(tmp_path, "h.xlsx", [["id", "name"], ["1", "x"]]))
    assert errors == [(1, "external_id", "required column is missing")]


def test_a_branch_workbook_upserts_like_the_csv(settings: Settings, tmp_path: Path) -> None:
    rows = [*BRANCH_ROWS, ["HZ-XH", "杭州西湖", 30.25, 120.15, 7, "", 330106, "false"]]
    with session_scope(make_engine(settings)) as session:
        report = import_branches(
            session, path=write_workbook(tmp_path, "branches.xlsx", rows), actor="test"
        )
        branches = {b.code: b for b in session.exec(select(Branch))}
    assert (report.inserted, report.file_format) == (4, "xlsx")
    assert branches["BJ-CY"].capacity == 80  # 80.0 in the cell
    assert branches["BJ-CY"].tiers == "affluent|mass"
    assert branches["SZ-FT"].region_code == "440304"
    assert branches["SH-PD"].active is False  # a boolean cell
    assert branches["HZ-XH"].active is False  # the text "false"


def test_a_number_shown_zero_padded_keeps_its_zeros(tmp_path: Path) -> None:
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["code", "name", "lat", "lon", "capacity"])
    sheet.append([7, "七号", 22.5, 114.0, 10])
    sheet["A2"].number_format = "000"
    path = tmp_path / "padded.xlsx"
    book.save(path)
    required = ("code", "name", "lat", "lon", "capacity")
    with xlsxfile.open_sheet(path, file="padded.xlsx", required=required) as read:
        [row] = list(read.rows)
    assert (row.line, row.get("code"), row.get("capacity"), row.get("lat")) == (
        2,
        "007",
        "10",
        "22.5",
    )


def test_a_workbook_is_known_by_its_content_whatever_its_name(
    settings: Settings, tmp_path: Path
) -> None:
    path = tmp_path / "export"
    path.write_bytes(workbook_bytes(LEAD_ROWS))
    assert _leads(settings, path).file_format == "xlsx"


def test_a_file_named_xlsx_that_is_not_a_workbook_is_refused(
    settings: Settings, tmp_path: Path
) -> None:
    path = tmp_path / "fake.xlsx"
    path.write_text("external_id\nA1\n", encoding="utf-8")
    [(line, column, reason)] = _rejection(settings, path)
    assert (line, column) == (1, "*")
    assert reason.startswith("not a readable Excel workbook (.xlsx)")


def test_an_old_binary_excel_file_is_refused_with_what_to_do(
    settings: Settings, tmp_path: Path
) -> None:
    path = tmp_path / "old.xls"
    path.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 512)
    [(_, _, reason)] = _rejection(settings, path)
    assert "save it as .xlsx or CSV" in reason


def test_a_zip_bomb_is_refused_from_its_declared_sizes_before_it_is_unpacked(
    settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(xlsxfile, "MAX_UNPACKED_BYTES", 16 << 20)
    zeros = b"<!-- " + b"0" * (32 << 20) + b" -->"  # 32 MB that packs to ~32 kB
    data = with_sheet_xml(workbook_bytes(LEAD_ROWS), zeros)
    assert len(data) < 200_000
    path = tmp_path / "bomb.xlsx"
    path.write_bytes(data)
    [(line, _, reason)] = _rejection(settings, path)
    assert line == 1
    assert reason == "the workbook unpacks to more than 16 MB; save it as CSV"


def test_entities_in_a_sheet_are_refused_not_expanded(settings: Settings, tmp_path: Path) -> None:
    assert openpyxl.xml.DEFUSEDXML  # openpyxl parses with defusedxml
    laughs = (
        b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
        b'<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]>'
        b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        b'<sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>external_id</t></is></c></row>'
        b'<row r="2"><c r="A2" t="inlineStr"><is><t>&lol2;</t></is></c></row>'
        b"</sheetData></worksheet>"
    )
    path = tmp_path / "laughs.xlsx"
    path.write_bytes(with_sheet_xml(workbook_bytes(LEAD_ROWS), laughs))
    [(_, _, reason)] = _rejection(settings, path)
    assert reason.startswith("not a readable Excel workbook (.xlsx)")
    assert "Forbidden" in reason


def test_the_row_limit_counts_workbook_rows_too(settings: Settings, tmp_path: Path) -> None:
    token = import_row_limit.set(2)
    try:
        errors = _rejection(settings, write_workbook(tmp_path, "many.xlsx", LEAD_ROWS))
    finally:
        import_row_limit.reset(token)
    assert errors == [(4, "*", "more than 2 data rows (O2O_MAX_IMPORT_ROWS); split the file")]


runner = CliRunner()


@pytest.fixture
def cli_settings(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Iterator[Settings]:
    monkeypatch.setenv("O2O_DATABASE_URL", settings.database_url)
    monkeypatch.setenv("O2O_SECRET_KEY", settings.secret_key)
    get_settings.cache_clear()
    yield settings
    get_settings.cache_clear()


def test_the_cli_imports_a_workbook_and_says_which_sheet_it_read(
    cli_settings: Settings, tmp_path: Path
) -> None:
    branches = write_workbook(tmp_path, "branches.xlsx", BRANCH_ROWS)
    result = runner.invoke(cli, ["import", "branches", str(branches)])
    assert result.exit_code == 0, result.output
    assert "branches.xlsx (XLSX, sheet 'Sheet1'): 3 rows, 3 new" in result.stdout
    leads = tmp_path / "leads.dat"
    leads.write_bytes(workbook_bytes(LEAD_ROWS))
    result = runner.invoke(cli, ["import", "leads", str(leads), "--format", "xlsx", "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert (report["format"], report["sheet"], report["inserted"]) == ("xlsx", "Sheet1", 3)


def test_the_cli_reports_workbook_errors_as_file_line_column(
    cli_settings: Settings, tmp_path: Path
) -> None:
    rows = [*LEAD_ROWS[:2], ["B1", "app", "坏", 13800138001, None, 95.0, 114.0]]
    result = runner.invoke(cli, ["import", "leads", str(write_workbook(tmp_path, "b.xlsx", rows))])
    assert result.exit_code == 2
    assert "b.xlsx:3: column 'lat'" in result.output

"""Lead and branch files as Chinese Excel saves them: GBK/GB18030 or UTF-8 with a BOM.

The files are written by Python's own codecs, byte for byte what Excel's "CSV" (code page 936)
and "CSV UTF-8" produce; an undecodable file is refused at its line and byte.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlmodel import select
from typer.testing import CliRunner

from app.branches.importer import import_branches
from app.cli import cli
from app.config import Settings, get_settings
from app.db import make_engine, session_scope
from app.errors import FileRejected
from app.imports.report import ImportReport
from app.imports.source import Reading
from app.leads.importer import import_leads
from app.tables import AuditRecord, Branch, Lead
from tests.app.factories import BRANCHES_CSV

LEADS = """external_id,channel,name,mobile,tier,region_code
G1,app,张三,13800138000,affluent,440304
G2,app,欧阳娜娜,13912345678,,110105
"""
# 𠀀 (U+20000) and the euro sign are in GB18030 but not in GBK: a four-byte sequence.
GB18030_ONLY = "G3,app,𠀀€,13700137000,mass,310115\n"


def _write(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def _leads(settings: Settings, path: Path, reading: Reading = Reading()) -> ImportReport:
    with session_scope(make_engine(settings)) as session:
        return import_leads(
            session, path=path, actor="test", secret=settings.customer_key, reading=reading
        )


def _names(settings: Settings) -> dict[str, str | None]:
    with session_scope(make_engine(settings)) as session:
        return {lead.external_id: lead.name for lead in session.exec(select(Lead))}


def test_a_gbk_lead_file_imports_with_its_chinese_names_intact(
    settings: Settings, tmp_path: Path
) -> None:
    report = _leads(settings, _write(tmp_path, "gbk.csv", LEADS.encode("gbk")))
    assert (report.rows, report.inserted, report.encoding) == (2, 2, "gb18030")
    assert _names(settings) == {"G1": "张三", "G2": "欧阳娜娜"}


def test_a_gb18030_file_with_characters_outside_gbk_is_read_whole(
    settings: Settings, tmp_path: Path
) -> None:
    data = (LEADS + GB18030_ONLY).encode("gb18030")
    with pytest.raises(UnicodeEncodeError):
        (LEADS + GB18030_ONLY).encode("gbk")  # the file is really beyond GBK
    report = _leads(settings, _write(tmp_path, "gb18030.csv", data))
    assert report.encoding == "gb18030"
    assert _names(settings)["G3"] == "𠀀€"


def test_a_utf8_file_with_a_bom_is_read_as_utf8(settings: Settings, tmp_path: Path) -> None:
    report = _leads(settings, _write(tmp_path, "bom.csv", LEADS.encode("utf-8-sig")))
    assert (report.inserted, report.encoding) == (2, "utf-8")
    assert _names(settings)["G2"] == "欧阳娜娜"


def test_a_gbk_branch_file_upserts_like_its_utf8_twin(settings: Settings, tmp_path: Path) -> None:
    with session_scope(make_engine(settings)) as session:
        first = import_branches(
            session, path=_write(tmp_path, "b.csv", BRANCHES_CSV.encode("gbk")), actor="test"
        )
    with session_scope(make_engine(settings)) as session:
        again = import_branches(
            session, path=_write(tmp_path, "b8.csv", BRANCHES_CSV.encode("utf-8")), actor="test"
        )
        names = {b.code: b.name for b in session.exec(select(Branch))}
    assert (first.inserted, first.encoding) == (3, "gb18030")
    assert (again.inserted, again.updated, again.unchanged) == (0, 0, 3)
    assert names["SZ-FT"] == "深圳福田营业部"


def test_a_file_in_neither_encoding_is_refused_at_its_line_and_byte(
    settings: Settings, tmp_path: Path
) -> None:
    data = LEADS.encode("utf-8") + b"G9,app,\xff\xfe,13800138000,,\n"
    with pytest.raises(FileRejected) as caught:
        _leads(settings, _write(tmp_path, "broken.csv", data))
    [error] = caught.value.errors
    assert (error.file, error.line, error.column) == ("broken.csv", 4, "*")
    assert error.reason.startswith("neither UTF-8 nor GB18030/GBK text (byte 0xFF at byte 8 ")
    assert _names(settings) == {}


def test_a_gbk_file_declared_utf8_is_refused_with_a_hint(
    settings: Settings, tmp_path: Path
) -> None:
    path = _write(tmp_path, "gbk.csv", LEADS.encode("gbk"))
    with pytest.raises(FileRejected) as caught:
        _leads(settings, path, Reading(encoding="utf-8"))
    [error] = caught.value.errors
    assert error.line == 2  # the header is ASCII; 张 is the first byte that is not UTF-8
    assert "declare encoding gb18030 or auto" in error.reason
    assert str(error).startswith("gbk.csv:2: column '*': not UTF-8 text (byte 0xD5 at byte 8 ")


def test_the_encoding_read_is_in_the_audit_record(settings: Settings, tmp_path: Path) -> None:
    _leads(settings, _write(tmp_path, "gbk.csv", LEADS.encode("gbk")))
    with session_scope(make_engine(settings)) as session:
        [record] = session.exec(select(AuditRecord).where(AuditRecord.action == "import.leads"))
    detail = json.loads(record.detail)
    assert (detail["file"], detail["format"], detail["encoding"]) == ("gbk.csv", "csv", "gb18030")


runner = CliRunner()


@pytest.fixture
def cli_settings(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Iterator[Settings]:
    monkeypatch.setenv("O2O_DATABASE_URL", settings.database_url)
    monkeypatch.setenv("O2O_SECRET_KEY", settings.secret_key)
    get_settings.cache_clear()
    yield settings
    get_settings.cache_clear()


def test_the_cli_takes_a_declared_encoding_and_prints_json(
    cli_settings: Settings, tmp_path: Path
) -> None:
    path = _write(tmp_path, "gbk.csv", BRANCHES_CSV.encode("gbk"))
    result = runner.invoke(cli, ["import", "branches", str(path), "--encoding", "gbk", "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["file"] == "gbk.csv"
    assert (report["format"], report["encoding"], report["inserted"]) == ("csv", "gb18030", 3)


def test_the_cli_names_the_encoding_in_its_summary_and_refuses_an_unknown_one(
    cli_settings: Settings, tmp_path: Path
) -> None:
    path = _write(tmp_path, "leads.csv", LEADS.encode("gbk"))
    unknown = runner.invoke(cli, ["import", "leads", str(path), "--encoding", "big5"])
    assert unknown.exit_code == 2
    assert "unknown encoding 'big5'" in unknown.output
    result = runner.invoke(cli, ["import", "leads", str(path), "--channel", "app"])
    assert result.exit_code == 0, result.output
    assert "leads.csv (CSV, GB18030/GBK): 2 rows, 2 new" in result.stdout

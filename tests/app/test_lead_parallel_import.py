"""A lead file validated in worker processes stores exactly what validating it in-process does
(`app.leads.parallel_stage`, PostgreSQL's COPY path, used by the CLI for big files)."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine

from app.config import Settings
from app.db import session_scope
from app.errors import FileRejected
from app.imports.parallel import PARALLEL_FROM_BYTES
from app.leads import parallel_stage
from app.leads.importer import import_leads
from app.privacy.cipher import cipher_for

HEADER = ["external_id", "channel", "name", "mobile", "tier", "lat", "lon", "region_code",
          "acquired_at"]  # fmt: skip
NAMES = ["张伟", "tab\there", "back\\slash", "two\nlines", "", "cr\rhere", "李娜"]
STORED = """SELECT l.external_id, l.channel, l.name, l.tier, l.lat, l.lon, l.region_code,
                   l.location_source, l.acquired_at, l.status, c.customer_key, l.mobile
            FROM lead l JOIN customer c ON c.id = l.customer_id ORDER BY l.channel, l.external_id"""


def leads_file(rows: int = 45) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(HEADER)
    for i in range(rows):
        located = i % 3 != 0
        writer.writerow([
            f"X{i}", "" if i % 4 else "wechat", NAMES[i % len(NAMES)],
            f"1390000{i % 17:04d}" if i % 5 else "",  # some customers return, some have none
            ("mass", "affluent", "hnw")[i % 3],
            f"22.{500 + i}" if located else "", f"114.{100 + i}" if located else "",
            "440304" if i % 6 == 0 else "",
            f"2026-11-{1 + i % 28:02d}T08:00:00+08:00" if i % 2 else "",
        ])  # fmt: skip
        if i % 11 == 0:
            out.write("\n")  # a blank line is not a row, whichever worker meets it
    return out.getvalue()


@pytest.fixture
def postgres(engine: Engine) -> Engine:
    if engine.dialect.name == "sqlite":
        pytest.skip("validating in worker processes is PostgreSQL's COPY path")
    return engine


@pytest.fixture
def worker_runs(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The worker counts the importer started with (proof the parallel path was taken)."""
    runs: list[int] = []
    real = parallel_stage.copy_blocks

    def spied(**kwargs: Any) -> Iterator[bytes]:
        runs.append(kwargs["workers"])
        return real(**kwargs)

    monkeypatch.setattr(parallel_stage, "copy_blocks", spied)
    return runs


def _import(engine: Engine, settings: Settings, path: Path, *, workers: int) -> int:
    with session_scope(engine) as session:
        report = import_leads(session, path=path, actor="test", secret=settings.customer_key,
                              channel="app", parse_workers=workers)  # fmt: skip
    return report.inserted


def _stored(engine: Engine) -> list[tuple[Any, ...]]:
    with session_scope(engine) as session:
        cipher = cipher_for(session)
        rows = session.execute(text(STORED)).all()
    return [(*row[:-1], cipher.open(row[-1])) for row in rows]


def _rejected(engine: Engine, settings: Settings, path: Path, *, workers: int) -> Any:
    with pytest.raises(FileRejected) as caught:
        _import(engine, settings, path, workers=workers)
    return caught.value.total_errors, [(e.line, e.column, e.reason) for e in caught.value.errors]


def test_two_workers_store_what_one_parser_stores(
    postgres: Engine, settings: Settings, tmp_path: Path, worker_runs: list[int]
) -> None:
    path = tmp_path / "leads.csv"
    path.write_text(leads_file(), encoding="utf-8")
    assert _import(postgres, settings, path, workers=1) == 45
    sequential = _stored(postgres)
    with session_scope(postgres) as session:
        session.execute(text("UPDATE lead SET channel = 'was-' || channel"))
    assert _import(postgres, settings, path, workers=2) == 45
    assert worker_runs == [2]
    in_parallel = [row for row in _stored(postgres) if not row[1].startswith("was-")]
    assert in_parallel == sequential
    assert {row[2] for row in in_parallel} >= {"tab\there", "back\\slash", "two\nlines"}
    assert _import(postgres, settings, path, workers=2) == 0  # idempotent, as in-process


def test_bad_rows_in_every_share_are_reported_as_one_parser_reports_them(
    postgres: Engine, settings: Settings, tmp_path: Path, worker_runs: list[int]
) -> None:
    rows = [",".join(HEADER)]
    for i in range(30):
        lat = "95.0" if i % 4 == 0 else "22.5"
        mobile = "12345" if i % 3 == 0 else ""
        rows.append(f"B{i},,名字,{mobile},mass,{lat},114.0,,")
    rows.append("B7,,重复,,mass,22.5,114.0,,")  # a repeated key is found only once all is staged
    path = tmp_path / "bad.csv"
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    in_parallel = _rejected(postgres, settings, path, workers=2)
    assert in_parallel == _rejected(postgres, settings, path, workers=1)
    assert worker_runs == [2]
    assert in_parallel[0] == 8 + 10
    good = tmp_path / "repeated.csv"
    good.write_text("\n".join([rows[0], *rows[2:4], rows[2]]) + "\n", encoding="utf-8")
    assert _rejected(postgres, settings, good, workers=2) == _rejected(
        postgres, settings, good, workers=1
    )
    with session_scope(postgres) as session:
        assert session.execute(text("SELECT COUNT(*) FROM lead")).scalar_one() == 0


def test_a_gb18030_file_is_read_in_its_encoding(
    postgres: Engine, settings: Settings, tmp_path: Path, worker_runs: list[int]
) -> None:
    path = tmp_path / "excel.csv"
    path.write_bytes(leads_file(6).encode("gb18030"))
    assert _import(postgres, settings, path, workers=2) == 6
    assert worker_runs == [2]
    assert "张伟" in {row[2] for row in _stored(postgres)}


def test_an_excel_workbook_is_read_in_process(
    postgres: Engine, settings: Settings, tmp_path: Path, worker_runs: list[int]
) -> None:
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    assert sheet is not None
    for row in csv.reader(io.StringIO(leads_file(4))):
        if row:
            sheet.append(row)
    path = tmp_path / "leads.xlsx"
    book.save(path)
    assert _import(postgres, settings, path, workers=2) == 4
    assert worker_runs == []


def test_the_cli_asks_for_workers_only_for_a_big_file(tmp_path: Path) -> None:
    from app.imports.parallel import workers_for

    small = tmp_path / "small.csv"
    small.write_text(leads_file(), encoding="utf-8")
    assert workers_for(small) == 1
    big = tmp_path / "big.csv"
    big.write_bytes(b"x" * PARALLEL_FROM_BYTES)
    assert workers_for(big) >= 1

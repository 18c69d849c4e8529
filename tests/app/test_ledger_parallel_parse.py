"""Parsing a revenue file in worker processes stages exactly what parsing in-process does."""

from __future__ import annotations

import multiprocessing
from collections.abc import Iterator
from multiprocessing.process import BaseProcess
from pathlib import Path
from typing import Any

import psycopg
import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine

from app.db import session_scope
from app.errors import FileRejected
from app.imports.csvfile import ErrorCollector, open_text, read_rows
from app.journal.revenue_import import parallel_parse, sql_staging
from app.journal.revenue_import.importer import import_revenue
from app.journal.revenue_import.row_parser import REQUIRED, RevenueRowParser
from app.limits import import_row_limit
from tests.app.factories import write
from tests.app.ledger_world import HEADER, NOW, described, scalar

STORED = """SELECT line, event_id, external_id, channel, revenue_type, amount_fen, occurred_at
            FROM revenue_event ORDER BY line"""
TIMES = (
    "2026-10-05",
    "2026-10-05T10:00:00+05:45",
    "2026-10-06 23:59:59.123456",
    "2026-10-07T08:00:00Z",
)


def good_file() -> str:
    rows = []
    for i in range(41):
        lead = ("A1,", "B1,", "C1,app", "D1,wechat")[i % 4]
        event_id = f"E\\{i}" if i % 5 == 0 else f"E{i}"
        external_id, channel = lead.split(",")
        amount = f"-{i}.5" if i % 7 == 0 else f"{i + 1}.0{i % 10}"
        rows.append(f"{event_id},{external_id},other,{amount},{TIMES[i % 4]},{channel}\n")
        if i % 9 == 0:
            rows.append("\n,,,\n")  # blank lines are not rows, whichever worker meets them
    return HEADER + "".join(rows)


def sequential_stage(path: Path) -> list[tuple[object, ...]]:
    parser = RevenueRowParser(errors=ErrorCollector(file=path.name), now=NOW)
    with open_text(path) as stream:
        parsed = [parser.parse(row) for row in read_rows(stream, file=path.name, required=REQUIRED)]
    return [row for row in parsed if row is not None]


def rejection(engine: Engine, path: Path, *, workers: int) -> FileRejected:
    with pytest.raises(FileRejected) as caught, session_scope(engine) as session:
        import_revenue(session, path=path, actor="test", now=NOW, parse_workers=workers)
    return caught.value


@pytest.fixture
def worker_runs(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The worker counts the importer started parsing with (proof the path was taken)."""
    runs: list[int] = []
    real = parallel_parse.copy_blocks

    def spied(**kwargs: Any) -> Iterator[bytes]:
        runs.append(kwargs["workers"])
        return real(**kwargs)

    monkeypatch.setattr(parallel_parse, "copy_blocks", spied)
    return runs


def test_two_workers_stage_what_one_parser_stages(
    postgres: Engine, tmp_path: Path, worker_runs: list[int]
) -> None:
    path = write(tmp_path, "rev.csv", good_file())
    with session_scope(postgres) as session:
        report = import_revenue(session, path=path, actor="test", now=NOW, parse_workers=2)
    with postgres.connect() as conn:
        stored = [tuple(row) for row in conn.execute(text(STORED))]
    assert worker_runs == [2]
    assert report.rows == 41
    assert stored == sequential_stage(path)


def test_bad_rows_in_every_share_are_reported_as_one_parser_reports_them(
    postgres: Engine, tmp_path: Path, worker_runs: list[int]
) -> None:
    body = HEADER + "".join(
        f"E{i},A1,other,{'1.234' if i % 3 == 0 else '5'},"
        f"{'2026-13-01' if i % 4 == 0 else '2026-10-05'},\n"
        for i in range(30)
    )
    path = write(tmp_path, "bad.csv", body)
    in_parallel = rejection(postgres, path, workers=2)
    assert described(in_parallel) == described(rejection(postgres, path, workers=1))
    assert worker_runs == [2]
    assert in_parallel.total_errors == 10 + 8
    assert scalar(postgres, "SELECT COUNT(*) FROM revenue_event") == 0


def test_a_malformed_file_is_rejected_as_one_parser_rejects_it(
    postgres: Engine, tmp_path: Path
) -> None:
    path = write(tmp_path, "bad.csv", HEADER + "E1,A1,other,5,2026-10-05,,extra\n" * 3)
    assert described(rejection(postgres, path, workers=2)) == described(
        rejection(postgres, path, workers=1)
    )


def test_only_big_files_are_parsed_in_several_processes(tmp_path: Path) -> None:
    small = write(tmp_path, "small.csv", good_file())
    assert parallel_parse.workers_for(small) == 1
    big = tmp_path / "big.csv"
    big.write_bytes(b"x" * parallel_parse.PARALLEL_FROM_BYTES)
    assert 1 <= parallel_parse.workers_for(big) <= parallel_parse.MAX_WORKERS


def test_workers_stop_when_the_import_stops_reading(
    postgres: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A database refusal mid-COPY leaves no worker blocked on a full pipe: each sees the
    pipe closed and exits by itself (none has to be killed)."""
    body = HEADER + "".join(f"E{i},A1,other,1,2026-10-05,\n" for i in range(30_000))
    path = write(tmp_path, "big.csv", body)
    # A clean file is staged by the server (sql_staging); this one must reach the workers.
    monkeypatch.setattr(sql_staging, "stage", lambda *args, **kwargs: None)
    killed: list[int | None] = []
    monkeypatch.setattr(BaseProcess, "kill", lambda process: killed.append(process.pid))

    real_write = psycopg.Copy.write
    written: list[int] = []

    def refuse_after_one_block(copy: psycopg.Copy, buffer: bytes) -> None:
        written.append(len(buffer))
        if len(written) > 1:
            raise RuntimeError("the database refused the COPY")
        real_write(copy, buffer)

    monkeypatch.setattr(psycopg.Copy, "write", refuse_after_one_block)
    with pytest.raises(RuntimeError, match="refused"), session_scope(postgres) as session:
        import_revenue(session, path=path, actor="test", now=NOW, parse_workers=2)
    assert killed == []
    assert multiprocessing.active_children() == []


def test_worker_blocks_are_read_as_utf8_whatever_the_client_encoding(
    postgres: Engine, tmp_path: Path
) -> None:
    path = write(tmp_path, "gbk.csv", HEADER + "E1,客户一,other,1,2026-10-05,\n" * 3)
    reasons = []
    for workers in (2, 1):
        with pytest.raises(FileRejected) as caught:
            _import_speaking_gbk(postgres, path, workers=workers)
        reasons.append([e.reason for e in caught.value.errors])
    assert reasons[0] == reasons[1] == ["no lead with external_id '客户一'"] * 3


def _import_speaking_gbk(engine: Engine, path: Path, *, workers: int) -> None:
    with session_scope(engine) as session:
        session.execute(text("SET client_encoding TO 'GBK'"))
        import_revenue(session, path=path, actor="test", now=NOW, parse_workers=workers)


def test_the_row_limit_rejects_the_file_as_one_parser_does(
    postgres: Engine, tmp_path: Path
) -> None:
    path = write(tmp_path, "long.csv", HEADER + "E1,A1,other,5,2026-10-05,\n" * 9)
    token = import_row_limit.set(5)
    try:
        in_parallel = described(rejection(postgres, path, workers=2))
        assert in_parallel == described(rejection(postgres, path, workers=1))
    finally:
        import_row_limit.reset(token)
    assert "more than 5 data rows" in in_parallel[1][0][2]

"""`o2o import revenue` and `o2o ledger close|export|verify` as an operator runs them."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import text
from sqlalchemy.engine import Engine

from app.tables.base import utcnow
from ledger.periods import period_of
from tests.app.factories import write
from tests.app.ledger_world import HEADER, o2o, runner


def test_import_close_export_verify_from_the_command_line(cli_env: Engine, tmp_path: Path) -> None:
    path = write(tmp_path, "rev.csv", HEADER + "E1,A1,other,12.34,2026-10-05,app\n")
    imported = runner.invoke(o2o(), ["import", "revenue", str(path)])
    assert imported.exit_code == 0, imported.output
    assert "1 new events" in imported.output
    assert "branches 1234" in imported.output
    closed = runner.invoke(o2o(), ["ledger", "close", "--period", "2026-10"])
    assert closed.exit_code == 0, closed.output
    assert "SZ-FT" in closed.output
    out = tmp_path / "oct.csv"
    exported = runner.invoke(o2o(), ["ledger", "export", "--period", "2026-10", "--out", str(out)])
    assert exported.exit_code == 0, exported.output
    assert "2 postings" in exported.output
    assert out.read_bytes().startswith(b"\xef\xbb\xbf")
    verified = runner.invoke(o2o(), ["ledger", "verify"])
    assert verified.exit_code == 0, verified.output


def test_a_bad_revenue_file_exits_2_naming_the_line(cli_env: Engine, tmp_path: Path) -> None:
    path = write(tmp_path, "rev.csv", HEADER + "E1,A1,other,1.001,2026-10-05,app\n")
    result = runner.invoke(o2o(), ["import", "revenue", str(path)])
    assert result.exit_code == 2
    assert "rev.csv:2: column 'amount'" in result.output


def test_verify_exits_non_zero_on_a_discrepancy(cli_env: Engine, tmp_path: Path) -> None:
    path = write(tmp_path, "rev.csv", HEADER + "E1,A1,other,12.34,2026-10-05,app\n")
    runner.invoke(o2o(), ["import", "revenue", str(path)])
    with cli_env.begin() as conn:
        if cli_env.dialect.name == "sqlite":
            conn.execute(text("DROP TRIGGER revenue_batch_no_update"))
        else:
            conn.execute(text("DROP TRIGGER revenue_batch_append_only ON revenue_batch"))
        conn.execute(text("UPDATE revenue_batch SET imported_fen = 0, branches_fen = 0"))
    result = runner.invoke(o2o(), ["ledger", "verify"])
    assert result.exit_code == 1
    assert "batch 1" in result.output


def test_closing_the_current_month_is_refused(cli_env: Engine) -> None:
    result = runner.invoke(o2o(), ["ledger", "close", "--period", str(period_of(utcnow()))])
    assert result.exit_code == 2
    assert "cannot be closed" in result.output

"""Amounts past the plausibility limit or the 64-bit fen range, and rows dated in the
future, are row errors on both import paths: never a traceback, never half a file."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine

from app import clock
from app.config import Settings
from app.db import session_scope
from app.errors import FileRejected
from app.journal import service
from app.journal.revenue_import.importer import import_revenue
from ledger.money import MAX_FEN
from tests.app.factories import write
from tests.app.ledger_world import HEADER, NOW, described, o2o, runner, scalar

WHEN = "2026-10-05T10:00:00"
# Each row fits a 64-bit fen column (4.6e18 fen); two of them do not.
HALF_RANGE = "46116860184273879.03"


def rows(*amounts: str, when: str = WHEN) -> str:
    return HEADER + "".join(f"E{i},A1,other,{a},{when},app\n" for i, a in enumerate(amounts))


def refused(
    engine: Engine, path: Path, *, workers: int = 1, max_amount_fen: int | None = None,
    now: datetime | None = NOW, events: int = 0,
) -> FileRejected:  # fmt: skip
    with pytest.raises(FileRejected) as caught, session_scope(engine) as session:
        import_revenue(session, path=path, actor="test", now=now, parse_workers=workers,
                       max_amount_fen=max_amount_fen)  # fmt: skip
    assert scalar(engine, "SELECT COUNT(*) FROM revenue_event") == events
    return caught.value


def imported(engine: Engine, path: Path, *, now: datetime | None = NOW) -> int:
    with session_scope(engine) as session:
        return import_revenue(session, path=path, actor="test", now=now).new_events


def test_an_amount_past_64_bit_fen_is_a_row_error(ledger_engine: Engine, tmp_path: Path) -> None:
    path = write(tmp_path, "rev.csv", rows("5", "92233720368547758.08", "-92233720368547758.08"))
    found = refused(ledger_engine, path)
    assert [(e.line, e.column) for e in found.errors] == [(3, "amount"), (4, "amount")]
    assert "out of range" in found.errors[0].reason


def test_an_amount_past_the_plausibility_limit_is_a_row_error(
    ledger_engine: Engine, tmp_path: Path
) -> None:
    assert Settings().max_revenue_amount_fen == 10_000_000_000  # 100 million yuan
    path = write(tmp_path, "rev.csv", rows("100000000.00", "-100000000.01"))
    [error] = refused(ledger_engine, path).errors
    assert str(error) == (
        "rev.csv:3: column 'amount': amount -100000000.01 exceeds the plausibility limit of "
        "100000000.00 yuan (O2O_MAX_REVENUE_AMOUNT_FEN)"
    )
    assert imported(ledger_engine, write(tmp_path, "ok.csv", rows("100000000.00"))) == 1


def test_the_plausibility_limit_is_a_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("O2O_MAX_REVENUE_AMOUNT_FEN", "500")
    assert Settings().max_revenue_amount_fen == 500


def test_a_file_whose_rows_fit_but_whose_total_overflows_is_a_row_error(
    ledger_engine: Engine, tmp_path: Path
) -> None:
    path = write(tmp_path, "rev.csv", rows("1", HALF_RANGE, "-1", HALF_RANGE, "7"))
    [error] = refused(ledger_engine, path, max_amount_fen=MAX_FEN).errors
    assert (error.line, error.column) == (5, "amount")
    assert "add up past 92233720368547758.07 yuan" in error.reason
    fits = write(tmp_path, "fits.csv", rows(HALF_RANGE, "-" + HALF_RANGE))
    with session_scope(ledger_engine) as session:  # the absolute total is 2**63 - 2: it fits
        report = import_revenue(session, path=fits, actor="test", now=NOW,
                                max_amount_fen=MAX_FEN)  # fmt: skip
    assert report.totals.imported_fen == 0


def test_a_file_that_would_take_an_account_past_64_bit_fen_is_a_row_error(
    ledger_engine: Engine, tmp_path: Path
) -> None:
    first = write(tmp_path, "first.csv", rows(HALF_RANGE))
    with session_scope(ledger_engine) as session:
        import_revenue(session, path=first, actor="test", now=NOW, max_amount_fen=MAX_FEN)
    # 2 * HALF_RANGE is 2**63 - 2 fen: the second file's first row still fits, its second not.
    second = HEADER + f"F1,A1,other,{HALF_RANGE},{WHEN},app\nF2,A1,other,0.02,{WHEN},app\n"
    [error] = refused(ledger_engine, write(tmp_path, "second.csv", second),
                      max_amount_fen=MAX_FEN, events=1).errors  # fmt: skip
    assert (error.line, error.column) == (3, "amount")
    assert "with every stored event's" in error.reason
    with session_scope(ledger_engine) as session:
        assert service.verify_ledger(session) == []  # every sum of the ledger still fits


@pytest.mark.parametrize(
    ("amounts", "limit"),
    [
        (("1", "92233720368547758.08", "2", "100000000.01"), None),
        (("1", HALF_RANGE, "2", HALF_RANGE, "3", HALF_RANGE), MAX_FEN),
    ],
    ids=["row-limits", "file-total"],
)
def test_both_parsers_reject_amounts_identically(
    postgres: Engine, tmp_path: Path, amounts: tuple[str, ...], limit: int | None
) -> None:
    path = write(tmp_path, "rev.csv", rows(*amounts))
    in_parallel = refused(postgres, path, workers=2, max_amount_fen=limit)
    assert described(in_parallel) == described(refused(postgres, path, max_amount_fen=limit))
    assert in_parallel.total_errors == (2 if limit is None else 1)


def test_the_command_line_reports_an_absurd_amount_without_a_traceback(
    cli_env: Engine, tmp_path: Path
) -> None:
    path = write(tmp_path, "rev.csv", rows("92233720368547758.08"))
    result = runner.invoke(o2o(), ["import", "revenue", str(path)])
    assert result.exit_code == 2, result.output
    assert "rev.csv:2: column 'amount'" in result.output
    assert "Traceback" not in result.output


# Rows dated in the future: the product clock decides, with ten minutes for clock drift.
FROZEN = datetime(2026, 11, 18, 2, 0, tzinfo=UTC)


def _at(offset: timedelta) -> str:
    return (FROZEN + offset).isoformat()


def test_a_row_dated_past_the_clock_tolerance_is_a_row_error(
    ledger_engine: Engine, tmp_path: Path
) -> None:
    late = write(tmp_path, "late.csv", rows("5", when=_at(timedelta(minutes=11))))
    with clock.frozen_at(FROZEN):
        [error] = refused(ledger_engine, late, now=None).errors
        assert (error.line, error.column) == (2, "occurred_at")
        assert "is in the future" in error.reason
        near = write(tmp_path, "near.csv", rows("5", when=_at(timedelta(minutes=9))))
        assert imported(ledger_engine, near, now=None) == 1


def test_both_parsers_reject_future_rows_identically(postgres: Engine, tmp_path: Path) -> None:
    body = HEADER + "".join(
        f"E{i},A1,other,5,{_at(timedelta(minutes=5 * i - 20))},app\n" for i in range(10)
    )
    path = write(tmp_path, "rev.csv", body)
    with clock.frozen_at(FROZEN):
        in_parallel = refused(postgres, path, workers=2, now=None)
        assert described(in_parallel) == described(refused(postgres, path, now=None))
    assert [e.line for e in in_parallel.errors] == [9, 10, 11]  # +15, +20, +25 minutes

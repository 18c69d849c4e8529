"""A clean revenue file staged by PostgreSQL itself (``sql_staging``) is stored exactly as the
Python parser stages it; any other file falls back to the Python parser, with the outcome
(rows stored, or the errors reported) the Python parser alone gives."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine

from app.db import session_scope
from app.errors import FileRejected
from app.journal.revenue_import import sql_staging
from app.journal.revenue_import.importer import import_revenue
from tests.app.ledger_world import HEADER, NOW, described, scalar
from tests.app.test_ledger_parallel_parse import STORED, sequential_stage

NO_CHANNEL = "event_id,external_id,type,amount,occurred_at\n"
CLEAN_ROWS = (
    "E1,A1,other,1,2026-10-05,app\n"
    "E\\2,B1,product_fee,+5.00,2026-10-31T23:59:59,\n"
    "E-3.x:y/z,C1,margin_interest,-0.01,2024-02-29T00:00:00,app\n"
    '"E4",D1,advisory_fee,007.5,1992-01-01T00:00:00,wechat\n'
    "E5,D1,brokerage_commission,12.3,2026-11-25T12:09:59,app\n"  # NOW + 9 min 59 s, Shanghai
)
CLEAN = {
    "plain": HEADER + CLEAN_ROWS,
    "without a channel column": NO_CHANNEL
    + "E1,A1,other,1,2026-10-05\nE2,B1,other,-2.5,2026-10-06\n",
    "columns reordered, upper case, padded": (
        " Amount ,EVENT_ID,type,occurred_at,channel,external_id\n"
        "1.25,E1,other,2026-10-05T08:00:00,,A1\n3,E2,other,2026-10-06,wechat,D1\n"
    ),
    "quoted empty channel": HEADER + 'E1,A1,other,1,2026-10-05,""\n',
    "no final line break": HEADER + "E1,A1,other,1,2026-10-05,app",
}
CRLF_BOM = ("\ufeff" + HEADER + CLEAN_ROWS).replace("\n", "\r\n").encode("utf-8")
# Accepted by the Python parser, not in the strict shapes: staged by the Python parser.
FALLBACK_ACCEPTED = {
    "an offset": HEADER + "E1,A1,other,1,2026-10-05T10:00:00+05:45,\n",
    "a UTC instant": HEADER + "E1,A1,other,1,2026-10-07T08:00:00Z,\n",
    "fractional seconds": HEADER + "E1,A1,other,1,2026-10-06 23:59:59.123456,\n",
    "a padded cell": HEADER + "E1, A1 ,other, 5 ,2026-10-05,\n",
    "daylight saving time in 1991": HEADER + "E1,A1,other,1,1991-07-01T12:00:00,\n",
    "a blank line": HEADER + "E1,A1,other,1,2026-10-05,\n\n,,,,,\nE2,A1,other,2,2026-10-05,\n",
    "a quoted line break in a note": (
        HEADER.strip()
        + ',note\nE1,A1,other,1,2026-10-05,,"two\nlines"\nE2,A1,other,2,2026-10-05,,\n'
    ),
    "an unknown extra column": HEADER.strip() + ",note\nE1,A1,other,1,2026-10-05,,hello\n",
    "a later good row after a refused shape": (
        HEADER + "E1,A1,other,1,2026-10-05,\nE2,A1,other,1,2026-10-05T10:00:00+08:00,\n"
    ),
}
# Refused by the Python parser: the same errors whichever path is tried first.
REFUSED = {
    "a day that does not exist": HEADER + "E1,A1,other,1,2026-02-30,\nE2,A1,other,1,2026-10-05,\n",
    "hour 24": HEADER + "E1,A1,other,1,2026-10-05T24:00:00,\n",
    "a leap second": HEADER + "E1,A1,other,1,2026-10-05T23:59:60,\n",
    "the future": HEADER + "E1,A1,other,1,2026-11-25T12:10:01,\n",
    "a zero amount": HEADER + "E1,A1,other,0.00,2026-10-05,\n",
    "three decimals": HEADER + "E1,A1,other,1.005,2026-10-05,\n",
    "an unknown type": HEADER + "E1,A1,Other,1,2026-10-05,\n",
    "an unknown lead": HEADER + "E1,Z9,other,1,2026-10-05,\n",
    "an ambiguous lead": HEADER + "E1,D1,other,1,2026-10-05,\n",
    "an invalid channel": HEADER + "E1,A1,other,1,2026-10-05,we chat\n",
    "a long id": HEADER + f"{'E' * 129},A1,other,1,2026-10-05,\n",
    "a repeated event with other content": (
        HEADER + "E1,A1,other,1,2026-10-05,\nE1,A1,other,2,2026-10-05,\n"
    ),
    "a quoted line break in an id": HEADER
    + 'E1,A1,other,1,2026-10-05,\n"E\n2",A1,other,2,2026-10-05,\n',
    "too many cells": HEADER + "E1,A1,other,1,2026-10-05,,x\n",
    "too few cells": HEADER + "E1,A1,other,1\n",
    "a missing column": "event_id,external_id,amount,occurred_at\nE1,A1,1,2026-10-05\n",
    "not UTF-8": None,
}


@pytest.fixture
def fast_runs(monkeypatch: pytest.MonkeyPatch) -> list[int | None]:
    """What each ``sql_staging.stage`` call returned (None: the Python parser staged)."""
    runs: list[int | None] = []
    real = sql_staging.stage

    def spied(*args: Any, **kwargs: Any) -> int | None:
        runs.append(real(*args, **kwargs))
        return runs[-1]

    monkeypatch.setattr(sql_staging, "stage", spied)
    return runs


def _stored(engine: Engine) -> list[tuple[object, ...]]:
    with engine.connect() as conn:
        return [tuple(row) for row in conn.execute(text(STORED))]


def _import(engine: Engine, path: Path, **kwargs: Any) -> Any:
    with session_scope(engine) as session:
        return import_revenue(session, path=path, actor="test", now=NOW, **kwargs)


def _rejection(engine: Engine, path: Path) -> FileRejected:
    with pytest.raises(FileRejected) as caught:
        _import(engine, path)
    return caught.value


@pytest.mark.parametrize("case", sorted(CLEAN))
def test_a_clean_file_is_staged_by_the_server_as_the_python_parser_stages_it(
    postgres: Engine, tmp_path: Path, fast_runs: list[int | None], case: str
) -> None:
    path = tmp_path / "rev.csv"
    path.write_text(CLEAN[case], encoding="utf-8")
    report = _import(postgres, path)
    assert fast_runs == [report.rows]
    assert report.rows == len(sequential_stage(path)) > 0
    assert _stored(postgres) == sequential_stage(path)


def test_a_byte_order_mark_and_crlf_line_ends_stay_on_the_fast_path(
    postgres: Engine, tmp_path: Path, fast_runs: list[int | None]
) -> None:
    path = tmp_path / "rev.csv"
    path.write_bytes(CRLF_BOM)
    report = _import(postgres, path)
    assert fast_runs == [5]
    assert report.new_events == 5
    assert _stored(postgres) == sequential_stage(path)


@pytest.mark.parametrize("case", sorted(FALLBACK_ACCEPTED))
def test_any_other_accepted_file_is_staged_by_the_python_parser(
    postgres: Engine, tmp_path: Path, fast_runs: list[int | None], case: str
) -> None:
    """Nothing of the failed attempt stays behind: every line is stored once, as parsed."""
    path = tmp_path / "rev.csv"
    path.write_text(FALLBACK_ACCEPTED[case], encoding="utf-8")
    report = _import(postgres, path)
    assert fast_runs == [None]
    assert report.new_events == len(sequential_stage(path)) > 0
    assert _stored(postgres) == sequential_stage(path)


@pytest.mark.parametrize("case", sorted(REFUSED))
def test_a_refused_file_gets_the_errors_the_python_parser_reports(
    postgres: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, case: str
) -> None:
    path = tmp_path / "rev.csv"
    body = REFUSED[case]
    if body is None:
        path.write_bytes(
            HEADER.encode() + b"E1,A1,other,1,2026-10-05,\nE2,\xff\xfe,other,1,2026-10-05,\n"
        )
    else:
        path.write_text(body, encoding="utf-8")
    tried_first = described(_rejection(postgres, path))
    monkeypatch.setattr(sql_staging, "stage", lambda *args, **kwargs: None)
    assert tried_first == described(_rejection(postgres, path))
    assert scalar(postgres, "SELECT COUNT(*) FROM revenue_event") == 0


def test_the_amount_limit_is_the_python_parsers(
    postgres: Engine, tmp_path: Path, fast_runs: list[int | None]
) -> None:
    path = tmp_path / "rev.csv"
    path.write_text(HEADER + "E1,A1,other,100.00,2026-10-05,\nE2,A1,other,-100,2026-10-05,\n")
    assert _import(postgres, path, max_amount_fen=10_000).new_events == 2
    over = tmp_path / "over.csv"
    over.write_text(HEADER + "E3,A1,other,100.01,2026-10-05,\n")
    with pytest.raises(FileRejected) as caught:
        _import(postgres, over, max_amount_fen=10_000)
    assert fast_runs == [2, None]
    assert [e.column for e in caught.value.errors] == ["amount"]


def test_a_file_of_random_clean_rows_is_stored_as_the_python_parser_stages_it(
    postgres: Engine, tmp_path: Path, fast_runs: list[int | None]
) -> None:
    import random

    rng = random.Random(18)
    types = ("brokerage_commission", "product_fee", "margin_interest", "advisory_fee", "other")
    leads = ("A1,app", "A1,", "B1,", "C1,app", "D1,wechat")
    rows = []
    for i in range(2_000):
        fen = rng.randint(-(10**9), 10**9) or 1
        whole, cents = divmod(abs(fen), 100)
        amount = ("-" if fen < 0 else rng.choice(("", "+"))) + str(whole)
        amount += rng.choice(
            (f".{cents:02d}", f".{cents:02d}" if cents % 10 else f".{cents // 10}")
        )
        if cents == 0 and rng.random() < 0.5:
            amount = amount.split(".")[0]
        year = rng.randint(1992, 2026)
        month = rng.randint(1, 12 if year < 2026 else 10)
        day = rng.randint(1, 28)
        instant = f"{year:04d}-{month:02d}-{day:02d}"
        if rng.random() < 0.8:
            h, m, s = rng.randint(0, 23), rng.randint(0, 59), rng.randint(0, 59)
            instant += f"T{h:02d}:{m:02d}:{s:02d}"
        external_id, channel = rng.choice(leads).split(",")
        rows.append(
            f"R{i}~{rng.randint(0, 99)},{external_id},{types[i % 5]},{amount},{instant},{channel}\n"
        )
    path = tmp_path / "rev.csv"
    path.write_text(HEADER + "".join(rows))
    report = _import(postgres, path)
    assert fast_runs == [2_000]
    assert report.new_events == 2_000
    assert _stored(postgres) == sequential_stage(path)

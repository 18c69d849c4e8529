"""Ledger export time for one period on PostgreSQL (1 million money postings by default).

    .venv/bin/python bench/ledger_export.py --entries 500000 [--xlsx-entries 100000]

Creates a fresh database (``o2o_bench_export`` on the server of O2O_TEST_POSTGRES_URL),
writes ``--entries`` balanced two-leg entries for 2026-10 with set-based SQL (postings first,
headers last, so the database checks them exactly as it checks an import), then times the
CSV export through COPY, the same export through the Python path (the two files must be
identical), and optionally an XLSX export of a smaller period.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

import psycopg
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine, make_url

from app.config import Settings
from app.db import session_scope
from app.journal.export.period_file import export_period
from app.migrations import upgrade
from ledger.periods import Period

DATABASE = "o2o_bench_export"


def fresh_database(base_url: str) -> Engine:
    admin = make_url(base_url).set(drivername="postgresql")
    with psycopg.connect(admin.render_as_string(hide_password=False), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{DATABASE}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{DATABASE}"')
    url = admin.set(database=DATABASE).render_as_string(hide_password=False)
    settings = Settings(database_url=url, _env_file=None)
    return create_engine(settings.sqlalchemy_url)


def load_entries(engine: Engine, *, entries: int, period: str, first: int) -> None:
    """``entries`` entries of two CNY legs each, ids from ``first``, in ``period``."""
    last = first + entries - 1
    ts = f"'{period}-15T10:00:00+08:00'::timestamptz + (i % 86400) * interval '1 second'"
    statements = [
        f"""INSERT INTO journal_posting (entry_id, line_no, line_count, account, unit, amount)
            SELECT i, 1, 2, 'clearing:other', 'CNY', 100 + i % 100000
            FROM generate_series({first}, {last}) i""",
        f"""INSERT INTO journal_posting (entry_id, line_no, line_count, account, unit, amount)
            SELECT i, 2, 2, 'branch:B' || (i % 300) || chr(58) || 'revenue', 'CNY', -(100 + i % 100000)
            FROM generate_series({first}, {last}) i""",
        f"""INSERT INTO journal_entry (id, business_key, kind, occurred_at, posted_at, period,
                                       posting_count, memo)
            SELECT i, 'bench:' || i, 'adjustment', {ts}, {ts}, '{period}', 2, ''
            FROM generate_series({first}, {last}) i""",
        f"SELECT setval(pg_get_serial_sequence('journal_entry', 'id'), {last})",
        "ANALYZE",
    ]
    with engine.begin() as conn:
        for statement in statements:
            conn.execute(text(statement))


def timed_export(engine: Engine, out: Path, *, period: Period, fmt: str, use_copy: bool) -> float:
    started = time.perf_counter()
    with session_scope(engine) as session:
        result = export_period(
            session, period=period, fmt=fmt, out=out, actor="bench", use_copy=use_copy
        )
    seconds = time.perf_counter() - started
    how = "COPY" if use_copy and fmt == "csv" else "Python"
    print(f"{fmt} via {how}: {result.rows:,} rows, {result.bytes:,} bytes in {seconds:.2f} s")
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--entries", type=int, default=500_000)
    parser.add_argument("--xlsx-entries", type=int, default=0)
    args = parser.parse_args()
    base = os.environ.get("O2O_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
    engine = fresh_database(base)
    upgrade(engine)
    started = time.perf_counter()
    load_entries(engine, entries=args.entries, period="2026-10", first=1)
    print(f"loaded {args.entries:,} entries in {time.perf_counter() - started:.1f} s")
    with tempfile.TemporaryDirectory() as folder:
        fast, slow = Path(folder) / "copy.csv", Path(folder) / "python.csv"
        timed_export(engine, fast, period=Period(2026, 10), fmt="csv", use_copy=True)
        timed_export(engine, slow, period=Period(2026, 10), fmt="csv", use_copy=False)
        assert fast.read_bytes() == slow.read_bytes(), "COPY and Python exports differ"
        print("COPY and Python exports are byte-identical")
        if args.xlsx_entries:
            load_entries(engine, entries=args.xlsx_entries, period="2026-09",
                         first=args.entries + 1)  # fmt: skip
            out = Path(folder) / "sep.xlsx"
            timed_export(engine, out, period=Period(2026, 9), fmt="xlsx", use_copy=False)


if __name__ == "__main__":
    main()

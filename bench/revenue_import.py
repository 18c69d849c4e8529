"""Revenue import throughput and exactly-once crediting on PostgreSQL.

    .venv/bin/python bench/revenue_import.py --events 1000000 --leads 200000
    .venv/bin/python bench/revenue_import.py --concurrency 50 --trials 100

Creates a fresh database (``o2o_bench_ledger`` on the server of O2O_TEST_POSTGRES_URL,
default postgresql://postgres@127.0.0.1:5432/test), migrates it, loads branches, leads and
ownership with set-based SQL, writes a revenue CSV and times `import_revenue` on it, then
times the re-import (which must credit nothing). With ``--concurrency N`` it instead posts
the same one-event file from N threads at once, ``--trials`` times, and checks that every
event got exactly one entry.
"""

from __future__ import annotations

import argparse
import os
import random
import tempfile
import threading
import time
from contextlib import nullcontext
from pathlib import Path

import psycopg
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine, make_url

from app.config import Settings
from app.db import session_scope
from app.journal.revenue_import import parallel_parse
from app.journal.revenue_import.importer import import_revenue
from app.migrations import upgrade
from bench.statement_times import slow_statements

TYPES = ("brokerage_commission", "product_fee", "margin_interest", "advisory_fee", "other")


def fresh_database(base_url: str, *, name: str) -> str:
    admin = make_url(base_url).set(drivername="postgresql")
    with psycopg.connect(admin.render_as_string(hide_password=False), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    return admin.set(database=name).render_as_string(hide_password=False)


def engine_for(url: str, *, pool: int = 5) -> Engine:
    settings = Settings(database_url=url, _env_file=None)
    return create_engine(settings.sqlalchemy_url, pool_size=pool, max_overflow=0)


def load_owners(engine: Engine, *, leads: int, branches: int) -> None:
    """Branches, leads (one channel, a customer each) and an open ownership interval for 90%
    of the leads' customers."""
    statements = [
        f"""INSERT INTO branch (code, name, lat, lon, capacity, tiers, active, created_at,
            updated_at) SELECT 'B' || i, 'branch ' || i, 30, 120, 100000, '', true, now(), now()
            FROM generate_series(1, {branches}) i""",
        f"""INSERT INTO customer (customer_key, created_at)
            SELECT 'bench:' || i, now() FROM generate_series(1, {leads}) i""",
        """INSERT INTO lead (channel, external_id, customer_id, tier, status, created_at,
            updated_at) SELECT 'app', 'L' || substr(customer_key, 7), id, 'mass', 'assigned',
            now(), now() FROM customer WHERE customer_key LIKE 'bench:%' ORDER BY id""",
        f"""INSERT INTO ownership (lead_id, customer_id, branch_id, valid_from, opened_by)
            SELECT id, customer_id, 1 + id % {branches}, '2026-01-01T00:00:00+08:00', 'round'
            FROM lead WHERE id % 10 <> 0""",
        "ANALYZE",
    ]
    with engine.begin() as conn:
        for statement in statements:
            conn.execute(text(statement))


def write_events(path: Path, *, events: int, leads: int, seed: int = 7, prefix: str = "EV") -> None:
    rng = random.Random(seed)
    with path.open("w", encoding="utf-8") as out:
        out.write("event_id,external_id,type,amount,occurred_at\n")
        for i in range(events):
            fen = rng.randint(-5_000, 2_000_000) or 1
            sign = "-" if fen < 0 else ""
            day, second = rng.randint(1, 31), rng.randint(0, 86_399)
            out.write(
                f"{prefix}{i:09d},L{rng.randint(1, leads)},{TYPES[i % 5]},"
                f"{sign}{abs(fen) // 100}.{abs(fen) % 100:02d},"
                f"2026-10-{day:02d}T{second // 3600:02d}:{second // 60 % 60:02d}:{second % 60:02d}\n"
            )


def timed_import(engine: Engine, path: Path, *, workers: int) -> tuple[float, int]:
    started = time.perf_counter()
    with session_scope(engine) as session:
        report = import_revenue(
            session, path=path, actor="bench", batch_rows=20_000, parse_workers=workers
        )
    return time.perf_counter() - started, report.new_events


def cpu_calibration() -> float:
    """Seconds for a fixed pure-Python loop: this machine's speed varies between runs (a
    shared host), so results quote it beside their figures."""
    started = time.perf_counter()
    sum(i * i for i in range(3_000_000))
    return time.perf_counter() - started


def throughput(
    url: str, *, events: int, leads: int, workers: int | None, slow_sql: float | None
) -> None:
    print(f"cpu calibration: {cpu_calibration():.3f} s")
    engine = engine_for(url)
    with slow_statements(engine, seconds=slow_sql) if slow_sql else nullcontext():
        _import_three_times(engine, events=events, leads=leads, workers=workers)


def _import_three_times(engine: Engine, *, events: int, leads: int, workers: int | None) -> None:
    upgrade(engine)
    load_owners(engine, leads=leads, branches=300)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "revenue.csv"
        write_events(path, events=events, leads=leads)
        workers = workers or parallel_parse.workers_for(path)
        print(f"parsing in {workers} process(es)")
        seconds, new = timed_import(engine, path, workers=workers)
        print(f"first import: {new:,} events in {seconds:.2f} s = {new / seconds:,.0f} events/s")
        again, new_again = timed_import(engine, path, workers=workers)
        print(f"re-import: {new_again} new events in {again:.2f} s ({events / again:,.0f} rows/s)")
        # The next month's file, into a ledger that already holds the first one.
        write_events(path, events=events, leads=leads, seed=8, prefix="NX")
        seconds, new = timed_import(engine, path, workers=workers)
        print(f"next import: {new:,} events in {seconds:.2f} s = {new / seconds:,.0f} events/s")
    with engine.connect() as conn:
        entries = conn.execute(text("SELECT COUNT(*) FROM ledger_entry")).scalar_one()
        postings = conn.execute(text("SELECT COUNT(*) FROM ledger_posting")).scalar_one()
    print(f"stored: {entries:,} entries, {postings:,} postings (exactly one entry per event)")
    if entries != 2 * events or new_again != 0:
        raise SystemExit("exactly-once violated: entries != events or the re-import credited")


def concurrency(url: str, *, threads: int, trials: int) -> None:
    engine = engine_for(url, pool=threads)
    upgrade(engine)
    load_owners(engine, leads=100, branches=3)
    folder = Path(tempfile.mkdtemp())
    for trial in range(trials):
        path = folder / f"t{trial}.csv"
        path.write_text(
            f"event_id,external_id,type,amount,occurred_at\nC{trial},L1,other,1.00,2026-10-05\n"
        )
        barrier = threading.Barrier(threads)
        workers = [
            threading.Thread(target=_post, args=(engine, path, barrier)) for _ in range(threads)
        ]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join()
    with engine.connect() as conn:
        counts = conn.execute(
            text("SELECT event_id, COUNT(*) FROM ledger_entry GROUP BY event_id")
        ).all()
    if len(counts) != trials or any(n != 1 for _, n in counts):
        raise SystemExit(f"exactly-once violated: {counts}")
    print(f"{trials} trials x {threads} simultaneous posts: exactly one entry per event")


def _post(engine: Engine, path: Path, barrier: threading.Barrier) -> None:
    barrier.wait()
    with session_scope(engine) as session:
        import_revenue(session, path=path, actor="bench")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=200_000)
    parser.add_argument("--leads", type=int, default=100_000)
    parser.add_argument("--concurrency", type=int, default=0)
    parser.add_argument("--trials", type=int, default=100)
    parser.add_argument(
        "--database", default="o2o_bench_ledger", help="dropped and created afresh on each run"
    )
    parser.add_argument(
        "--slow-sql", type=float, default=None, metavar="SECONDS",
        help="print every SQL statement slower than this, with its time",
    )  # fmt: skip
    parser.add_argument(
        "--parse-workers", type=int, default=None, help="default: as `o2o import revenue` chooses"
    )
    args = parser.parse_args()
    base = os.environ.get("O2O_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
    url = fresh_database(base, name=args.database)
    if args.concurrency:
        concurrency(url, threads=args.concurrency, trials=args.trials)
    else:
        throughput(
            url, events=args.events, leads=args.leads, workers=args.parse_workers,
            slow_sql=args.slow_sql,
        )  # fmt: skip


if __name__ == "__main__":
    main()

"""Benchmark: `o2o import leads` throughput and peak memory at up to 1.3 million rows.

    python bench/import_leads.py --rows 1000000 --database-url sqlite:////tmp/bench.db
    python bench/import_leads.py --rows 1000000 --database-url postgresql://postgres@127.0.0.1:5432/bench

Generates a demo-style leads file (real city clusters and mobile prefixes), migrates an empty
database, imports the file twice (the second run must insert nothing) and prints the figures.
"""

from __future__ import annotations

import argparse
import csv
import random
import resource
import time
from pathlib import Path

import psycopg
from sqlalchemy.engine import make_url

from allocation.locality import prefecture_cities
from app.config import Settings
from app.db import make_engine, session_scope
from app.demo import LEAD_HEADER, lead_rows
from app.leads.importer import import_leads
from app.migrations import upgrade


def generate(path: Path, rows: int) -> None:
    if path.exists() and sum(1 for _ in path.open(encoding="utf-8")) == rows + 1:
        return
    with path.open("w", encoding="utf-8", newline="") as stream:
        writer = csv.writer(stream)
        writer.writerow(LEAD_HEADER)
        writer.writerows(lead_rows(prefecture_cities(), count=rows, rng=random.Random(7)))


def fresh_database(url: str) -> None:
    if url.startswith("sqlite:///"):
        for suffix in ("", "-wal", "-shm"):
            Path(url.removeprefix("sqlite:///") + suffix).unlink(missing_ok=True)
        return
    parsed = make_url(url)
    admin = parsed.set(database="postgres").render_as_string(hide_password=False)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{parsed.database}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{parsed.database}"')


def timed_import(settings: Settings, path: Path) -> tuple[int, float]:
    engine = make_engine(settings)
    started = time.perf_counter()
    with session_scope(engine) as session:
        report = import_leads(
            session, path=path, actor="bench", secret=settings.customer_key, channel="app"
        )
    engine.dispose()
    return report.inserted, time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--database-url", default="sqlite:////tmp/o2o-bench.db")
    parser.add_argument("--file", type=Path, default=Path("/tmp/o2o-bench-leads.csv"))
    args = parser.parse_args()
    generate(args.file, args.rows)
    fresh_database(args.database_url)
    settings = Settings(database_url=args.database_url, _env_file=None)  # type: ignore[call-arg]
    upgrade(make_engine(settings))
    inserted, seconds = timed_import(settings, args.file)
    again, seconds_again = timed_import(settings, args.file)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    dialect = make_url(args.database_url).get_backend_name()
    print(
        f"database={dialect} rows={args.rows} inserted={inserted} seconds={seconds:.1f} "
        f"rows_per_s={args.rows / seconds:,.0f}"
    )
    print(f"reimport inserted={again} seconds={seconds_again:.1f} peak_rss_mb={peak_mb:.0f}")


if __name__ == "__main__":
    main()

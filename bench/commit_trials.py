"""Benchmark: the round commit alone, repeated on identical copies of one solved world.

    python -m bench.commit_trials prepare --leads 1300000 --branches 300 \
        --database-url postgresql://postgres@127.0.0.1:5432/o2o_commit_world
    python -m bench.commit_trials run --trials 3 --slow-sql 0.5 \
        --database-url postgresql://postgres@127.0.0.1:5432/o2o_commit_world

`prepare` imports the leads and solves one round without committing it. `run` copies that
database (CREATE DATABASE ... TEMPLATE, a file copy), brings the copy to this code's schema
and commits the round in the copy, so every trial starts from the same pages on disk: the
first write after an import (hint bits, full-page images) is paid in each trial as in
`bench.round_at_scale`. Each trial prints the
commit's time and what it cost PostgreSQL: WAL written, temporary files, buffers the backend
had to write itself, checkpoints during the commit.
"""

from __future__ import annotations

import argparse
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from pathlib import Path
from typing import Any

import psycopg
from sqlalchemy import make_url

from app.branches.importer import import_branches
from app.config import Settings
from app.db import make_engine, session_scope
from app.migrations import upgrade
from app.rounds.service import RoundParams, commit_round, run_round
from bench.import_leads import fresh_database
from bench.round_at_scale import _import, timed, write_inputs
from bench.statement_times import slow_statements

_COUNTERS = """
    SELECT pg_current_wal_lsn(),
           (SELECT buffers_backend FROM pg_stat_bgwriter),
           (SELECT checkpoints_timed + checkpoints_req FROM pg_stat_bgwriter),
           (SELECT COALESCE(SUM(temp_bytes), 0) FROM pg_stat_database)
"""


def prepare(url: str, *, leads: int, branches: int, folder: Path) -> int:
    branch_csv, lead_csv = write_inputs(folder, leads=leads, branches=branches)
    fresh_database(url)
    settings = _settings(url)
    engine = make_engine(settings)
    upgrade(engine)
    with session_scope(engine) as session:
        import_branches(session, path=branch_csv, actor="bench")
    timed("import leads", lambda: _import(engine, settings, lead_csv))
    round_id = timed(
        "round (not committed)",
        lambda: run_round(
            engine, settings=settings, actor="bench", params=RoundParams(), commit=False
        ),
    )
    engine.dispose()
    print(f"world {make_url(url).database}: round {round_id} solved, not committed")
    return int(round_id)


def run(url: str, *, trials: int, slow_sql: float | None) -> None:
    world = make_url(url)
    copy_url = world.set(database=f"{world.database}_trial").render_as_string(hide_password=False)
    for trial in range(1, trials + 1):
        _copy_world(world.render_as_string(hide_password=False), make_url(copy_url).database or "")
        _commit_once(copy_url, label=f"trial {trial}", slow_sql=slow_sql)
    _drop(url, make_url(copy_url).database or "")


def _commit_once(url: str, *, label: str, slow_sql: float | None) -> None:
    settings = _settings(url)
    engine = make_engine(settings)
    upgrade(engine)  # a world prepared by older code gets this code's schema first
    round_id = _solved_round(engine)
    print(f"{label}: committing round {round_id}", flush=True)
    watched = slow_statements(engine, seconds=slow_sql) if slow_sql else nullcontext()
    with _server_costs(url), watched:
        timed(
            f"{label} commit",
            lambda: commit_round(engine, settings=settings, actor="bench", round_id=round_id),
        )
    engine.dispose()


def _copy_world(url: str, copy: str) -> None:
    with _admin(url) as conn:
        world = make_url(url).database
        conn.execute(f'DROP DATABASE IF EXISTS "{copy}" WITH (FORCE)')
        conn.execute("CHECKPOINT")  # the copy takes the files as they are on disk
        conn.execute(f'CREATE DATABASE "{copy}" TEMPLATE "{world}" STRATEGY FILE_COPY')


def _drop(url: str, name: str) -> None:
    with _admin(url) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _solved_round(engine) -> int:  # type: ignore[no-untyped-def]
    with engine.connect() as conn:
        found = conn.exec_driver_sql(
            "SELECT id FROM allocation_round WHERE status = 'solved' ORDER BY id DESC LIMIT 1"
        ).scalar()
    if found is None:
        raise SystemExit("no solved round in the world: run `prepare` first")
    return int(found)


@contextmanager
def _server_costs(url: str) -> Iterator[None]:
    with _admin(url) as conn:
        before = conn.execute(_COUNTERS).fetchone()
        yield
        after = conn.execute(_COUNTERS).fetchone()
        wal = conn.execute("SELECT pg_wal_lsn_diff(%s, %s)", (after[0], before[0])).fetchone()
    assert before is not None
    assert after is not None
    assert wal is not None
    print(
        f"  WAL {float(wal[0]) / 2**20:.0f} MB, temp files {(after[3] - before[3]) / 2**20:.0f} MB,"
        f" buffers written by the backend {after[1] - before[1]},"
        f" checkpoints {after[2] - before[2]}",
        flush=True,
    )


def _admin(url: str) -> psycopg.Connection[Any]:
    admin = make_url(url).set(database="postgres").render_as_string(hide_password=False)
    return psycopg.connect(admin, autocommit=True)


def _settings(url: str) -> Settings:
    return Settings(database_url=url, _env_file=None)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("action", choices=("prepare", "run"))
    parser.add_argument(
        "--database-url", default="postgresql://postgres@127.0.0.1:5432/o2o_commit_world"
    )
    parser.add_argument("--leads", type=int, default=1_300_000)
    parser.add_argument("--branches", type=int, default=300)
    parser.add_argument("--folder", type=Path, default=Path("/tmp"))
    parser.add_argument("--trials", type=int, default=1)
    parser.add_argument("--slow-sql", type=float, default=None, metavar="SECONDS")
    args = parser.parse_args()
    if args.action == "prepare":
        prepare(args.database_url, leads=args.leads, branches=args.branches, folder=args.folder)
    else:
        run(args.database_url, trials=args.trials, slow_sql=args.slow_sql)


if __name__ == "__main__":
    main()

"""Where a routed intake's time goes: every statement of single-lead intakes, in process.

    python -m bench.intake_statements \
        --database-url postgresql://postgres@127.0.0.1:5432/o2o_round_bench --requests 300

Runs `take_leads` (what `POST /api/v1/intake/leads` runs after the key check) once per lead,
one transaction each, on a world built by `bench.round_at_scale`, and prints the mean time per
intake: in all, in SQL, and per statement (its first words), slowest first. HTTP, the key
check and the JSON are not in it: `bench.intake_latency` measures the whole request.
"""

from __future__ import annotations

import argparse
import os
import random
import time
from collections import defaultdict

from sqlalchemy.engine import Engine

from app.config import Settings
from app.db import make_engine, session_scope
from app.intake.schemas import IntakeBatch
from app.intake.service import take_leads
from bench.burst import percentile
from bench.intake_latency import one_lead
from bench.statement_times import first_words, timed_statements


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--warmup", type=int, default=30)
    return parser.parse_args()


def run(engine: Engine, settings: Settings, *, count: int, first: int) -> list[float]:
    """Seconds of each of `count` intakes, one transaction each (commit included)."""
    rng, channel = random.Random(f"{os.getpid()}-{first}"), f"prof{os.getpid()}"
    took = []
    for i in range(first, first + count):
        batch = IntakeBatch.model_validate(one_lead(i, rng))
        started = time.perf_counter()
        with session_scope(engine) as session:
            take_leads(session, channel=channel, key_id="profile", batch=batch,
                       secret=settings.customer_key)  # fmt: skip
        took.append(time.perf_counter() - started)
    return took


def main() -> None:
    args = parse_args()
    settings = Settings(database_url=args.database_url, _env_file=None)  # type: ignore[call-arg]
    engine = make_engine(settings)
    run(engine, settings, count=args.warmup, first=0)  # warm caches and connections
    spent: dict[str, list[float]] = defaultdict(list)

    def add(statement: str, took: float) -> None:
        spent[first_words(statement, 90)].append(took)

    with timed_statements(engine, add):
        took = run(engine, settings, count=args.requests, first=args.warmup)
    engine.dispose()
    seconds, ms = sum(took), sorted(1000 * t for t in took)
    per = 1000 / args.requests
    sql = sum(sum(times) for times in spent.values())
    calls = sum(len(times) for times in spent.values())
    print(f"{args.requests} intakes: {seconds * per:.2f} ms each, SQL {sql * per:.2f} ms "
          f"in {calls / args.requests:.1f} statements, load {os.getloadavg()[0]:.2f}")  # fmt: skip
    print(f"per intake: p50 {percentile(ms, 0.5):.2f} ms, p95 {percentile(ms, 0.95):.2f} ms, "
          f"max {ms[-1]:.2f} ms; statements slower than 5 ms: "
          f"{sum(t > 0.005 for times in spent.values() for t in times)}")  # fmt: skip
    for text, times in sorted(spent.items(), key=lambda kv: -sum(kv[1])):
        print(f"  {sum(times) * per:6.2f} ms  x{len(times) / args.requests:4.1f}  {text}")
    print("statements slower than 5 ms:")
    for text, times in spent.items():
        slow = sorted(1000 * t for t in times if t > 0.005)
        if slow:
            print(f"  {len(slow):4d} x, {slow[0]:.1f}-{slow[-1]:.1f} ms: {text}")


if __name__ == "__main__":
    main()

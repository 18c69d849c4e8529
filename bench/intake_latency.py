"""Benchmark: a channel system pushing single leads to `POST /api/v1/intake/leads`.

    python -m bench.round_at_scale --leads 1300000 \
        --database-url postgresql://postgres@127.0.0.1:5432/o2o_round_bench   # once
    python -m bench.intake_latency \
        --database-url postgresql://postgres@127.0.0.1:5432/o2o_round_bench --requests 3000

Issues a key for a fresh channel, starts `o2o serve` (one worker) on loopback and sends one lead
per request, one request at a time over a keep-alive connection (a channel's push loop), with
new external ids, mobiles and coordinates. Prints p50/p95/p99 latency, the statuses and the
leads the database held before and after. Target (contract §8): p95 under 30 ms with 1.3M leads.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import secrets
import time
from collections import Counter

from sqlalchemy import func
from sqlmodel import col, select

from app.config import Settings
from app.db import make_engine, session_scope
from app.intake.keys import issue_key
from app.tables import Lead, Ownership
from bench.burst import free_port, percentile
from bench.lead_list_latency import start_server
from bench.lean_http import LeanClient

P95_TARGET_MS = 30.0


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--requests", type=int, default=3_000)
    parser.add_argument("--warmup", type=int, default=100)
    return parser.parse_args()


def prepare(url: str) -> tuple[str, dict[str, str], int]:
    """A key for a channel of its own, the server's environment, the lead count."""
    secret = secrets.token_hex(32)
    # The benchmark databases seal mobiles with the key derived from the default secret.
    data_key = Settings(database_url=url, _env_file=None).data_key_bytes.hex()  # type: ignore[call-arg]
    env = {"O2O_SECRET_KEY": secret, "O2O_DATA_KEY": data_key}
    engine = make_engine(
        Settings(database_url=url, secret_key=secret, data_key=data_key, _env_file=None)  # type: ignore[call-arg]
    )
    channel = f"bench{os.getpid()}"
    with session_scope(engine) as session:
        token = issue_key(session, channel=channel, actor="bench").token
    leads = lead_count(engine)
    engine.dispose()
    return token, env, leads


def lead_count(engine: object) -> int:
    with session_scope(engine) as session:  # type: ignore[arg-type]
        return int(session.exec(select(func.count()).select_from(Lead)).one())


def routed_count(engine: object) -> int:
    """Customers routing has given a branch so far (intervals it opened)."""
    with session_scope(engine) as session:  # type: ignore[arg-type]
        query = select(func.count()).where(col(Ownership.opened_by) == "routed")
        return int(session.exec(query).one())


def one_lead(i: int, rng: random.Random) -> dict[str, object]:
    return {
        "leads": [
            {
                "external_id": f"IN{os.getpid()}-{i}",
                "name": "李娜",
                "mobile": f"139{rng.randrange(10**8):08d}",
                "lat": round(rng.uniform(22.4, 40.0), 5),
                "lon": round(rng.uniform(108.0, 121.5), 5),
                "tier": rng.choice(["mass", "mass", "affluent", "hnw"]),
            }
        ]
    }


async def push(
    port: int, token: str, requests: int, warmup: int
) -> tuple[list[float], Counter[str]]:
    client = LeanClient("127.0.0.1", port, connections=1, timeout_s=30.0)
    headers = {"X-API-Key": token}
    rng = random.Random(7)
    latencies: list[float] = []
    statuses: Counter[str] = Counter()
    for i in range(warmup + requests):
        started = time.perf_counter()
        status = await client.request("POST", "/api/v1/intake/leads", headers=headers,
                                      body=one_lead(i, rng))  # fmt: skip
        if i >= warmup:
            latencies.append(time.perf_counter() - started)
            statuses[str(status)] += 1
    await client.close()
    return latencies, statuses


def main() -> None:
    args = parse_args()
    token, env, before = prepare(args.database_url)
    engine = make_engine(Settings(database_url=args.database_url, _env_file=None))  # type: ignore[call-arg]
    routed_before = routed_count(engine)
    port = free_port()
    server = start_server(args.database_url, port, 1, extra_env=env)
    try:
        latencies, statuses = asyncio.run(push(port, token, args.requests, args.warmup))
    finally:
        server.terminate()
        server.wait(timeout=30)
    after, routed = lead_count(engine), routed_count(engine) - routed_before
    engine.dispose()
    ms = [s * 1000 for s in latencies]
    print(f"leads before {before:,}, after {after:,}; statuses {dict(statuses)}")
    print(f"routed on arrival: {routed:,} of {after - before:,} new customers")
    print(f"metric=intake_single_p50_ms value={percentile(ms, 0.5):.1f}")
    print(f"metric=intake_single_p95_ms value={percentile(ms, 0.95):.1f} threshold<{P95_TARGET_MS}")
    print(f"metric=intake_single_p99_ms value={percentile(ms, 0.99):.1f}")


if __name__ == "__main__":
    main()

"""Load benchmark: thousands of branch staff listing and updating their leads at once (issue 7).

    # full run (quiet machine): 1.3M leads, 300 branches, 3,000 staff, 10 minutes, 120 req/s
    python -m bench.staff_load --database-url postgresql://postgres@127.0.0.1:5432/o2o_staff_load
    # again on the same world without rebuilding it
    python -m bench.staff_load --reuse
    # smoke: 50,000 leads, 300 staff, 1 minute, its own database
    python -m bench.staff_load --smoke

Setup (skipped with --reuse): bench/round_at_scale.py's world (leads imported, one round run and
committed). Then every run: the staff accounts (bench/staff_world.py), each user's own deck of
open leads, tokens, and `o2o serve --workers N` on 127.0.0.1. The traffic is open-loop
(bench/staff_traffic.py): Poisson arrivals at --rate (default staff / 25 s of think time).
Prints per action count, p50/p95/p99/max, refusals, errors and the achieved rate, the CPU used
by the generator, the server and the whole machine, and the three `metric=` lines; writes JSON.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import secrets
import socket
import sys
import time
from pathlib import Path

import httpx
from sqlalchemy.engine import make_url

from app.config import Settings
from bench.lead_list_latency import start_server
from bench.lean_http import LeanClient
from bench.round_at_scale import build_world
from bench.staff_cpu import machine_busy_seconds, tree_cpu_seconds
from bench.staff_traffic import UPDATES, HttpxSender, Results, run_open_loop
from bench.staff_world import (
    Staff,
    check_logins,
    deal_decks,
    ensure_staff,
    mint_tokens,
    vacuum_analyze,
)

THINK_TIME_S = 25.0  # mean time between two actions of one staff member
TARGETS_MS = {"list": 50.0, "update": 100.0}
SMOKE = {"leads": 50_000, "staff": 300, "minutes": 1.0}


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--leads", type=int, default=1_300_000)
    parser.add_argument("--branches", type=int, default=300)
    parser.add_argument("--staff", type=int, default=3_000)
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--rate", type=float, default=None, help="arrivals/s; staff / 25 s")
    parser.add_argument("--warmup-seconds", type=float, default=15.0)
    parser.add_argument("--reuse", action="store_true", help="the database holds the world")
    parser.add_argument("--smoke", action="store_true", help="50k leads, 300 staff, 1 minute")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--port", type=int, default=8766)
    parser.add_argument("--connections", type=int, default=64, help="client pool bound")
    parser.add_argument(
        "--client", choices=("lean", "httpx"), default="lean", help="see bench/lean_http.py"
    )
    parser.add_argument("--timeout", type=float, default=10.0, help="seconds; then an error")
    parser.add_argument("--deck", type=int, default=20, help="open leads dealt to each user")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--folder", type=Path, default=Path("/tmp"))
    parser.add_argument("--out", type=Path, default=None, help="JSON result file")
    if "--smoke" in sys.argv[1:]:
        parser.set_defaults(**SMOKE)  # explicit options still win
    args = parser.parse_args()
    name = "o2o_load_smoke" if args.smoke else "o2o_staff_load"
    args.database_url = args.database_url or f"postgresql://postgres@127.0.0.1:5432/{name}"
    args.rate = args.rate or args.staff / THINK_TIME_S
    args.out = args.out or args.folder / f"staff_load-{time.strftime('%Y%m%dT%H%M%S')}.json"
    _check(args)
    return args


def _check(args: argparse.Namespace) -> None:
    if not args.database_url.startswith(("postgresql://", "postgresql+psycopg://")):
        raise SystemExit("error: --database-url must be a postgresql:// URL")
    if make_url(args.database_url).database in ("test", "postgres", None):
        raise SystemExit("error: --database-url must name a benchmark database of its own")
    for name in ("leads", "branches", "staff", "deck", "connections"):
        if getattr(args, name) < 1:
            raise SystemExit(f"error: --{name} must be at least 1")
    if args.minutes <= 0 or args.rate <= 0 or args.timeout <= 0 or args.warmup_seconds < 0:
        raise SystemExit("error: --minutes, --rate and --timeout must be positive")


def _check_port_free(port: int) -> None:
    """Another server on the port would answer the health check and fail every token."""
    with socket.socket() as probe:
        if probe.connect_ex(("127.0.0.1", port)) == 0:
            raise SystemExit(f"error: 127.0.0.1:{port} is in use; pass another --port")


def prepare(args: argparse.Namespace, settings: Settings) -> list[Staff]:
    if not args.reuse:
        build_world(args.database_url, leads=args.leads, branches=args.branches, folder=args.folder)
    started = time.perf_counter()
    staff = ensure_staff(args.database_url, count=args.staff)
    deal_decks(args.database_url, staff, per_staff=args.deck)
    mint_tokens(staff, settings=settings, database_url=args.database_url)
    dealt = sum(len(s.deck) for s in staff)
    print(f"VACUUM (ANALYZE): {vacuum_analyze(args.database_url):.1f} s", flush=True)
    print(
        f"staff: {len(staff)} accounts, {dealt} open leads dealt, tokens minted "
        f"({time.perf_counter() - started:.1f} s)",
        flush=True,
    )
    return staff


async def drive(args: argparse.Namespace, staff: list[Staff]) -> Results:
    traffic = {
        "rate": args.rate,
        "warmup_s": args.warmup_seconds,
        "measure_s": args.minutes * 60,
        "connections": args.connections,
        "drain_s": args.timeout * 2,
        "seed": args.seed,
    }
    if args.client == "lean":
        lean = LeanClient(
            "127.0.0.1", args.port, connections=args.connections, timeout_s=args.timeout
        )
        try:
            return await run_open_loop(lean, staff, **traffic)
        finally:
            await lean.close()
    limits = httpx.Limits(
        max_connections=args.connections,
        max_keepalive_connections=args.connections,
        keepalive_expiry=3.0,  # below uvicorn's 5 s, or a reused connection may be closing
    )
    async with httpx.AsyncClient(
        base_url=f"http://127.0.0.1:{args.port}", limits=limits, timeout=args.timeout
    ) as client:
        return await run_open_loop(HttpxSender(client), staff, **traffic)


def measure(
    args: argparse.Namespace, staff: list[Staff], server_pid: int
) -> tuple[Results, dict[str, object]]:
    """Run the traffic with CPU accounting around it (warm-up included in the CPU figures)."""
    generator0, server0 = time.process_time(), tree_cpu_seconds(server_pid)
    busy0, elapsed0 = machine_busy_seconds()
    results = asyncio.run(drive(args, staff))
    busy1, elapsed1 = machine_busy_seconds()
    server1 = tree_cpu_seconds(server_pid)
    cpu = {
        "wall_s": round(elapsed1 - elapsed0, 1),
        "generator_cpu_s": round(time.process_time() - generator0, 1),
        "server_cpu_s": round(sum(server1.values()) - sum(server0.values()), 1),
        # Per process: one busy worker next to an idle one means the load is not spread.
        "server_cpu_s_by_process": [
            round(seconds - server0.get(pid, 0.0), 1) for pid, seconds in server1.items()
        ],
        "machine_busy_cores": round((busy1 - busy0) / max(elapsed1 - elapsed0, 1e-9), 2),
    }
    return results, cpu


def main() -> None:
    args = parse_args()
    secret = secrets.token_urlsafe(32)  # the server and the minted tokens share it
    minutes = int(args.minutes + args.warmup_seconds / 60) + 30
    settings = Settings(
        database_url=args.database_url,
        secret_key=secret,
        access_token_minutes=min(minutes, 1440),
        _env_file=None,
    )
    _check_port_free(args.port)
    staff = prepare(args, settings)
    env = {"O2O_SECRET_KEY": secret, "O2O_ACCESS_TOKEN_MINUTES": str(settings.access_token_minutes)}
    server = start_server(args.database_url, args.port, args.workers, extra_env=env)
    try:
        check_logins(f"http://127.0.0.1:{args.port}", staff, count=min(3, len(staff)))
        load_before = os.getloadavg()
        results, cpu = measure(args, staff, server.pid)
        cpu["loadavg_after"] = round(os.getloadavg()[0], 2)
    finally:
        server.terminate()
        server.wait(timeout=30)
    report = summarise(args, results, cpu, load_before)
    args.out.write_text(json.dumps(report, indent=2, ensure_ascii=False))
    print(f"results written to {args.out}")


def summarise(
    args: argparse.Namespace,
    results: Results,
    cpu: dict[str, object],
    load_before: tuple[float, ...],
) -> dict[str, object]:
    seconds = args.minutes * 60
    actions = {name: _stats(values, seconds) for name, values in sorted(results.latency.items())}
    updates = [v for name in UPDATES for v in results.latency.get(name, [])]
    groups = {
        "list": _stats(results.latency.get("list", []), seconds),
        "update": _stats(updates, seconds),
    }
    errors = sum(results.errors.values())
    for name, row in {**actions, **{f"all {k}": v for k, v in groups.items()}}.items():
        print(f"{name:>14}: " + " ".join(f"{k}={v}" for k, v in row.items()))
    print(f"refused (409): {dict(results.refused)}  errors: {dict(results.errors)}")
    print(
        f"warm-up requests (not counted): {sum(results.warmup.values())}; "
        f"generator max dispatch lag {results.max_dispatch_lag_ms:.1f} ms"
    )
    print(
        "cpu: "
        + " ".join(f"{k}={v}" for k, v in cpu.items())
        + f" load_before={load_before[0]:.2f}"
    )
    for group, target in TARGETS_MS.items():
        print(f"metric={group}_p95_ms value={groups[group]['p95_ms']} threshold={target:g}")
    print(f"metric=errors value={errors} threshold=0")
    return {
        "config": {k: str(v) if isinstance(v, Path) else v for k, v in vars(args).items()},
        "actions": actions,
        "groups": groups,
        "refused": dict(results.refused),
        "errors": dict(results.errors),
        "error_count": errors,
        "warmup_requests": sum(results.warmup.values()),
        "max_dispatch_lag_ms": round(results.max_dispatch_lag_ms, 1),
        "cpu": cpu,
        "loadavg_before": load_before,
        "finished_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }


def _stats(values: list[float], seconds: float) -> dict[str, float]:
    ordered = sorted(values)

    def rank(share: float) -> float:  # nearest-rank percentile
        return (
            round(ordered[max(0, math.ceil(share * len(ordered)) - 1)], 1)
            if ordered
            else float("nan")
        )

    return {
        "count": len(ordered),
        "per_s": round(len(ordered) / seconds, 1),
        "p50_ms": rank(0.50),
        "p95_ms": rank(0.95),
        "p99_ms": rank(0.99),
        "max_ms": round(ordered[-1], 1) if ordered else float("nan"),
    }


if __name__ == "__main__":
    main()

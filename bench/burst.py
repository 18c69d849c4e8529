"""Burst benchmark (issue 13): N clients at once against a real server, on SQLite and PostgreSQL.

    python -m bench.burst                      # 500 clients, 60 s, both databases
    python -m bench.burst --clients 200 --seconds 20 --databases sqlite

For each database the script creates a fresh one (a SQLite file in a temporary directory; the
PostgreSQL database `o2o_burst_<pid>` on --postgres), migrates it, adds one branch, a branch
user and --leads leads, and starts `o2o serve` (one worker) with O2O_TRUSTED_PROXIES=127.0.0.1,
so each client can speak for its own address in X-Forwarded-For. Each client loops without
pause over a random mix: a sign-in with the right password (from its own address), a wrong guess
(from an attacker address of its own), a lead list, and marking a lead contacted.

Goal: only 2xx/4xx/503 (never 500), a valid request's p99 under 2 s, and a valid request
answered at once when the burst ends. Prints the status histogram and `metric=` lines.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import secrets
import socket
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import psycopg
from sqlalchemy.engine import make_url

from app.branches.importer import import_branches
from app.config import Settings
from app.db import make_engine, session_scope
from app.leads.customers import solo_customer
from app.migrations import upgrade
from app.tables import Branch, Lead
from app.tables.base import utcnow
from app.users.service import create_user
from bench.lead_list_latency import start_server
from bench.lean_http import LeanClient

PASSWORD = "correct horse battery"
BRANCHES = "code,name,lat,lon,capacity,tiers,region_code,active\nSZ-FT,福田,22.54,114.05,100,,440304,true\n"
MIX = (("sign_in", 0.1), ("wrong_guess", 0.1), ("list", 0.5), ("contacted", 0.3))
P99_TARGET_S = 2.0


@dataclass
class Tally:
    statuses: Counter[str] = field(default_factory=Counter)
    valid_latencies: list[float] = field(default_factory=list)  # every answer, 503 included
    served_latencies: list[float] = field(default_factory=list)  # 2xx/4xx answers only

    def add(self, action: str, status: str, seconds: float) -> None:
        self.statuses[status] += 1
        self.statuses[f"{action}:{status}"] += 1
        if action != "wrong_guess":
            self.valid_latencies.append(seconds)
            if status.startswith(("2", "4")):
                self.served_latencies.append(seconds)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--clients", type=int, default=500)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--leads", type=int, default=2_000)
    parser.add_argument("--databases", default="sqlite,postgresql")
    parser.add_argument("--workers", type=int, default=1, help="o2o serve worker processes")
    parser.add_argument("--postgres", default="postgresql://postgres@127.0.0.1:5432/postgres")
    return parser.parse_args()


def build_world(url: str, leads: int, tmp: Path) -> None:
    settings = Settings(database_url=url, secret_key="x" * 64, _env_file=None)  # type: ignore[call-arg]
    engine = make_engine(settings)
    upgrade(engine)
    branches = tmp / "branches.csv"
    branches.write_text(BRANCHES, encoding="utf-8")
    with session_scope(engine) as session:
        import_branches(session, path=branches, actor="bench")
    with session_scope(engine) as session:
        create_user(
            session, username="sz1", password=PASSWORD, role="branch", branch_code="SZ-FT",
            actor="bench",
        )  # fmt: skip
        branch = session.exec(Branch.__table__.select()).first()  # type: ignore[attr-defined]
        for i in range(leads):
            session.add(
                Lead(
                    channel="app",
                    external_id=f"B{i}",
                    customer_id=solo_customer(session, channel="app", external_id=f"B{i}"),
                    name="张伟",
                    mobile="13812345678",
                    branch_id=branch.id,
                    status="assigned",
                    lat=22.55,
                    lon=114.06,
                    location_source="coordinates",
                    tier="mass",
                    assigned_at=utcnow(),
                    acquired_at=utcnow(),
                )
            )
    engine.dispose()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def one_request(
    http: LeanClient, action: str, me: int, token: str, leads: int, rng: random.Random
) -> int:
    mine = {"X-Forwarded-For": f"10.{me // 250}.{me % 250}.1"}
    auth = {**mine, "Authorization": f"Bearer {token}"}
    if action == "sign_in":
        form = {"username": "sz1", "password": PASSWORD}
        return await http.request("POST", "/api/v1/auth/token", form=form, headers=mine)
    if action == "wrong_guess":
        attacker = {"X-Forwarded-For": f"203.0.{me // 250}.{me % 250}"}
        form = {"username": "sz1", "password": "guess"}
        return await http.request("POST", "/api/v1/auth/token", form=form, headers=attacker)
    if action == "list":
        return await http.request("GET", "/api/v1/leads?limit=50", headers=auth)
    lead_id = rng.randrange(1, leads + 1)
    return await http.request("POST", f"/api/v1/leads/{lead_id}/contacted", headers=auth)


async def client(
    http: LeanClient, me: int, token: str, leads: int, until: float, tally: Tally
) -> None:
    rng = random.Random(me)
    actions, weights = zip(*MIX, strict=True)
    while time.monotonic() < until:
        action = rng.choices(actions, weights)[0]
        started = time.monotonic()
        try:
            status = str(await one_request(http, action, me, token, leads, rng))
        except (OSError, TimeoutError, asyncio.IncompleteReadError) as exc:
            status = type(exc).__name__
        tally.add(action, status, time.monotonic() - started)
        if status in ("429", "503"):  # a polite client waits as Retry-After asks (capped)
            await asyncio.sleep(1.0)


async def burst(port: int, clients: int, seconds: float, leads: int) -> tuple[Tally, float]:
    base = f"http://127.0.0.1:{port}"
    form = {"username": "sz1", "password": PASSWORD}
    token = httpx.post(f"{base}/api/v1/auth/token", data=form).json()["access_token"]
    # One connection per client, as 500 browsers or apps would have; the lean client spends a
    # tenth of httpx's CPU per request, which the server under test would otherwise lose.
    http = LeanClient("127.0.0.1", port, connections=clients, timeout_s=60.0)
    tally = Tally()
    until = time.monotonic() + seconds
    await asyncio.gather(*(client(http, i, token, leads, until, tally) for i in range(clients)))
    await http.close()
    started = time.monotonic()
    after = httpx.get(f"{base}/api/v1/leads", headers={"Authorization": f"Bearer {token}"})
    assert after.status_code == 200, after.text
    return tally, time.monotonic() - started


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))] if ordered else 0.0


def report(database: str, tally: Tally, after_s: float, seconds: float) -> None:
    total = sum(v for k, v in tally.statuses.items() if ":" not in k)
    print(f"\n== {database}: {total} requests in {seconds:.0f} s ({total / seconds:.0f}/s)")
    for key in sorted(tally.statuses):
        print(f"  {key:>24} {tally.statuses[key]}")
    p99 = percentile(tally.valid_latencies, 0.99)
    errors = sum(v for k, v in tally.statuses.items() if ":" not in k and not _allowed(k))
    print(f"metric={database}_500_or_errors value={errors} threshold=0")
    print(f"metric={database}_503 value={tally.statuses['503']}")
    print(f"metric={database}_valid_p50_s value={percentile(tally.valid_latencies, 0.5):.3f}")
    print(f"metric={database}_valid_p99_s value={p99:.3f} threshold<{P99_TARGET_S}")
    served = tally.served_latencies
    print(f"metric={database}_served_valid_p99_s value={percentile(served, 0.99):.3f}")
    print(f"metric={database}_served_valid_per_s value={len(served) / seconds:.1f}")
    print(f"metric={database}_after_burst_s value={after_s:.3f}")


def _allowed(status: str) -> bool:
    return status.isdigit() and (status.startswith(("2", "4")) or status == "503")


def postgres_database(admin_url: str) -> tuple[str, str]:
    name = f"o2o_burst_{os.getpid()}"
    url = make_url(admin_url).set(drivername="postgresql")
    with psycopg.connect(url.render_as_string(hide_password=False), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    return name, url.set(database=name).render_as_string(hide_password=False)


def drop_postgres(admin_url: str, name: str) -> None:
    url = make_url(admin_url).set(drivername="postgresql")
    with psycopg.connect(url.render_as_string(hide_password=False), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def run(database: str, args: argparse.Namespace) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        pg_name = None
        if database == "sqlite":
            url = f"sqlite:///{tmp}/burst.db"
        else:
            pg_name, url = postgres_database(args.postgres)
        try:
            build_world(url, args.leads, Path(tmp))
            port = free_port()
            env = {"O2O_TRUSTED_PROXIES": "127.0.0.1", "O2O_SECRET_KEY": secrets.token_hex(32)}
            server = start_server(url, port, args.workers, extra_env=env)
            try:
                tally, after_s = asyncio.run(burst(port, args.clients, args.seconds, args.leads))
            finally:
                server.terminate()
                server.wait(timeout=30)
            report(database, tally, after_s, args.seconds)
        finally:
            if pg_name:
                drop_postgres(args.postgres, pg_name)


def main() -> None:
    args = parse_args()
    print(f"clients={args.clients} seconds={args.seconds} leads={args.leads} mix={dict(MIX)}")
    for database in args.databases.split(","):
        run(database.strip(), args)


if __name__ == "__main__":
    main()

"""Benchmark: branch staff listing (and updating) their leads over HTTP, against a loaded database.

    python -m bench.round_at_scale --leads 1300000      # once: 1.3 million leads, one committed round
    python -m bench.lead_list_latency --seconds 60 --clients 8 --update-share 0.1

Starts `o2o serve` on loopback, creates one staff account per branch (up to --staff), and runs
client threads that each log in as a random branch user and loop: list a page of 50 of their
own leads (oldest first), and with probability --update-share mark one of them contacted.
Prints p50/p95/p99 latency per request kind, throughput and errors.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import statistics
import subprocess
import sys
import threading
import time
import urllib.parse

from sqlmodel import select

from app.config import Settings
from app.db import make_engine, session_scope
from app.tables import Branch, User
from app.users.service import create_user

PASSWORD = "bench-password-2026"


def ensure_staff(settings: Settings, *, count: int) -> list[str]:
    engine = make_engine(settings)
    with session_scope(engine) as session:
        existing = {u.username for u in session.exec(select(User))}
        codes = [b.code for b in session.exec(select(Branch).order_by(Branch.id).limit(count))]
        for code in codes:
            if f"staff-{code}" not in existing:
                create_user(
                    session,
                    username=f"staff-{code}",
                    password=PASSWORD,
                    role="branch",
                    branch_code=code,
                    actor="bench",
                )
    engine.dispose()
    return [f"staff-{code}" for code in codes]


def start_server(
    url: str, port: int, workers: int, *, extra_env: dict[str, str] | None = None
) -> subprocess.Popen[bytes]:
    env = {**os.environ, "O2O_DATABASE_URL": url, **(extra_env or {})}
    command = [
        sys.executable,
        "-m",
        "app.cli",
        "serve",
        "--port",
        str(port),
        "--workers",
        str(workers),
    ]
    server = subprocess.Popen(
        command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    for _ in range(100):
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
            connection.request("GET", "/healthz")
            if connection.getresponse().status == 200:
                return server
        except OSError:
            time.sleep(0.2)
    server.kill()
    raise SystemExit("server did not start")


def login(port: int, username: str) -> str:
    connection = http.client.HTTPConnection("127.0.0.1", port)
    body = urllib.parse.urlencode({"username": username, "password": PASSWORD})
    connection.request(
        "POST", "/api/v1/auth/token", body, {"Content-Type": "application/x-www-form-urlencoded"}
    )
    return str(json.loads(connection.getresponse().read())["access_token"])


def vacuum(settings: Settings) -> None:
    """Sets the visibility map, so that a branch's count reads its index alone."""
    engine = make_engine(settings)
    started = time.perf_counter()
    with engine.connect() as connection:
        autocommit = connection.execution_options(isolation_level="AUTOCOMMIT")
        autocommit.exec_driver_sql("VACUUM (ANALYZE) lead, lead_placement, ownership")
    engine.dispose()
    print(
        f"vacuum (analyze) lead, lead_placement, ownership: {time.perf_counter() - started:.1f} s"
    )


class Client(threading.Thread):
    def __init__(
        self, *, port: int, token: str, until: float, update_share: float, seed: int
    ) -> None:
        super().__init__(daemon=True)
        self.port, self.until, self.update_share = port, until, update_share
        self.headers = {"Authorization": f"Bearer {token}"}
        self.rng = random.Random(seed)
        self.latency: dict[str, list[float]] = {"list": [], "update": []}
        self.errors = 0

    def run(self) -> None:
        connection = http.client.HTTPConnection("127.0.0.1", self.port)
        while time.perf_counter() < self.until:
            status, body = self._timed(
                connection, "list", "GET", "/api/v1/leads?limit=50&sort=oldest"
            )
            items = json.loads(body).get("items", []) if status == 200 else []
            assigned = [item["id"] for item in items if item["status"] == "assigned"]
            if assigned and self.rng.random() < self.update_share:
                lead_id = self.rng.choice(assigned)
                self._timed(connection, "update", "POST", f"/api/v1/leads/{lead_id}/contacted")

    def _timed(
        self, connection: http.client.HTTPConnection, kind: str, method: str, path: str
    ) -> tuple[int, bytes]:
        started = time.perf_counter()
        connection.request(method, path, headers=self.headers)
        response = connection.getresponse()
        body = response.read()
        self.latency[kind].append((time.perf_counter() - started) * 1000)
        if response.status not in (200, 409):  # 409: another client contacted it first
            self.errors += 1
        return response.status, body


def percentile(values: list[float], share: float) -> float:
    return (
        statistics.quantiles(values, n=1000)[int(share * 1000) - 1]
        if len(values) > 1
        else float("nan")
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--database-url", default="postgresql://postgres@127.0.0.1:5432/o2o_round_bench"
    )
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--staff", type=int, default=300)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--update-share", type=float, default=0.0)
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument(
        "--vacuum-first", action="store_true",
        help="VACUUM (ANALYZE) the tables a round rewrites before measuring: what autovacuum "
        "does minutes after a commit on default settings (some servers run without it)",
    )  # fmt: skip
    args = parser.parse_args()
    settings = Settings(database_url=args.database_url, _env_file=None)  # type: ignore[call-arg]
    if args.vacuum_first:
        vacuum(settings)
    staff = ensure_staff(settings, count=args.staff)
    server = start_server(args.database_url, args.port, args.workers)
    try:
        rng = random.Random(1)
        until = time.perf_counter() + args.seconds
        clients = [
            Client(
                port=args.port,
                token=login(args.port, rng.choice(staff)),
                until=until,
                update_share=args.update_share,
                seed=i,
            )
            for i in range(args.clients)
        ]
        for client in clients:
            client.start()
        for client in clients:
            client.join()
    finally:
        server.terminate()
    for kind in ("list", "update"):
        values = [v for c in clients for v in c.latency[kind]]
        if values:
            print(
                f"{kind}: requests={len(values)} per_s={len(values) / args.seconds:.0f} "
                f"p50_ms={percentile(values, 0.5):.1f} p95_ms={percentile(values, 0.95):.1f} "
                f"p99_ms={percentile(values, 0.99):.1f}"
            )
    print(
        f"errors={sum(c.errors for c in clients)} clients={args.clients} staff={len(staff)} workers={args.workers}"
    )


if __name__ == "__main__":
    main()

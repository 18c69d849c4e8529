"""Benchmark: webhook delivery from the outbox to a receiver that fails every other request.

    python -m bench.notify_delivery --notifications 1000
    python -m bench.notify_delivery --notifications 1000 \
        --database-url postgresql://postgres@127.0.0.1:5432/o2o_notify_bench   # an empty db

Writes the notifications (one transaction), starts the test suite's receiver on loopback
(it verifies every HMAC signature and answers 500 to every other request), and runs the real
worker (`deliver_due`, what `o2o notify run --once` calls) pass after pass. Between passes the
app clock jumps to the next row's `next_attempt_at` instead of sleeping, so the wall time is
the worker's own work (claims, POSTs, records) and the backoff shows as simulated time.
Prints wall seconds, requests, attempts per notification, duplicates and the simulated span.
"""

from __future__ import annotations

import argparse
import random
import tempfile
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
from sqlalchemy import func
from sqlmodel import col, select

from app import clock
from app.config import Settings
from app.db import make_engine, session_scope
from app.migrations import upgrade
from app.notifications.delivery import deliver_due
from app.notifications.outbox import deliveries
from app.notifications.service import notify_assigned
from app.tables import Branch, NotificationOutbox
from tests.app.webhook_receiver import webhook_receiver

SECRET = "bench-webhook-secret-0123456789abcdef"
START = datetime(2026, 11, 18, 2, 0, tzinfo=UTC)
POLL = timedelta(seconds=5)  # `o2o notify run`'s default pause between passes


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--notifications", type=int, default=1_000)
    parser.add_argument("--database-url", default=None, help="default: a new SQLite file")
    return parser.parse_args()


def settings_for(url: str, hook: str) -> Settings:
    return Settings(database_url=url, secret_key=SECRET + "-token", _env_file=None,  # type: ignore[call-arg]
                    notify_webhook_url=hook, notify_webhook_secret=SECRET)  # fmt: skip


def seed(settings: Settings, count: int) -> None:
    engine = make_engine(settings)
    upgrade(engine)
    with session_scope(engine) as session:
        branch = Branch(code="BENCH", name="基准", lat=22.5, lon=114.0, capacity=10)
        session.add(branch)
        session.flush()
        for n in range(count):
            notify_assigned(session, branch.id or 0, [n + 1])
    engine.dispose()


def drain(settings: Settings, frozen: clock.FrozenClock) -> tuple[int, int, float]:
    """(passes, attempts, wall seconds) until nothing is pending; a pass every POLL at most,
    as `o2o notify run` polls."""
    engine, rng = make_engine(settings), random.Random(16)
    passes = attempts = 0
    started = time.perf_counter()
    with httpx.Client(trust_env=False) as client:
        while True:
            attempts += deliver_due(engine, settings=settings, client=client, rng=rng).attempts
            passes += 1
            with session_scope(engine) as session:
                due = session.exec(
                    select(NotificationOutbox.next_attempt_at)
                    .where(NotificationOutbox.status == "pending")
                    .order_by(col(NotificationOutbox.next_attempt_at))
                ).first()
                counts = deliveries(session).counts
                most = session.exec(select(func.max(NotificationOutbox.attempts))).one()
            if due is None:
                wall = time.perf_counter() - started
                print(f"outbox: {counts}, most attempts for one notification: {most}")
                engine.dispose()
                return passes, attempts, wall
            frozen.advance(max(due - frozen.at, POLL))


def main() -> None:
    args = parse_args()
    folder = Path(tempfile.mkdtemp(prefix="notify-bench-"))
    url = args.database_url or f"sqlite:///{folder / 'bench.db'}"
    failing = webhook_receiver(SECRET, fail_every_other=True)
    with clock.frozen_at(START) as frozen, failing as (hook, received):
        settings = settings_for(url, hook)
        seed(settings, args.notifications)
        passes, attempts, wall = drain(settings, frozen)
        span = frozen.at - START
    per_key = Counter(received.keys)
    print(f"database: {url.split(':', 1)[0]}, notifications: {args.notifications}")
    print(f"wall: {wall:.2f} s ({args.notifications / wall:,.0f} notifications/s), "
          f"passes: {passes}, simulated backoff span: {span}")  # fmt: skip
    print(f"requests: {received.requests}, attempts: {attempts}, bad signatures: "
          f"{received.bad_signatures}")  # fmt: skip
    print(f"delivered: {len(per_key)} distinct, {sum(per_key.values()) - len(per_key)} "
          f"duplicates")  # fmt: skip


if __name__ == "__main__":
    main()

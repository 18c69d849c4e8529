"""The shard simulation's world: input files, the split by customer, the databases, the import.

Leads come from bench/generate.py's China-wide instances, with mobile numbers added so that a
share of customers arrive twice, through two channels (one customer, several leads). The lead
file is split by a hash of the customer's key, the key the importer itself computes: all of a
customer's leads land in one part, which is what distributing by customer_id means.
"""

from __future__ import annotations

import csv
import hashlib
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import psycopg
from sqlalchemy.engine import Engine, make_url

from allocation.locality import normalise_mobile
from app.branches.importer import import_branches
from app.config import Settings
from app.db import make_engine, session_scope
from app.demo import BRANCH_HEADER
from app.leads.importer import import_leads
from app.leads.rows import customer_key, solo_customer_key
from app.migrations import upgrade
from bench.generate import Instance, generate
from bench.import_leads import fresh_database

CHANNELS = ("app", "wechat", "partner_alipay", "partner_ctrip")
LEAD_HEADER = ("external_id", "channel", "mobile", "tier", "lat", "lon", "region_code")
# Each shard draws the ids of its distributed tables from its own range, as Citus hands out
# cluster-wide ids: an id says which shard holds the row, and no two shards share one.
ID_RANGE = 10**12
SHARD_SEQUENCES = ("customer", "lead", "ownership")  # round_assignment is keyed by lead


@dataclass(frozen=True)
class Inputs:
    branches: Path
    leads: Path


def settings_for(url: str) -> Settings:
    return Settings(database_url=url, _env_file=None)  # type: ignore[call-arg]


_engines: dict[str, Engine] = {}


def engine_for(url: str) -> Engine:
    """One engine (one small pool) per database for the whole run, not one per step."""
    if url not in _engines:
        _engines[url] = make_engine(settings_for(url))
    return _engines[url]


def dispose_engines() -> None:
    """Close every pooled connection (before dropping databases, and in forked workers)."""
    for engine in _engines.values():
        engine.dispose()
    _engines.clear()


def forget_engines() -> None:
    """In a forked worker: drop the parent's pools without touching its connections."""
    for engine in _engines.values():
        engine.dispose(close=False)
    _engines.clear()


def write_inputs(
    folder: Path, *, leads: int, branches: int, seed: int, capacity_ratio: float,
    repeat_share: float, no_mobile_share: float,
) -> Inputs:  # fmt: skip
    """Branches and leads of one instance; `repeat_share` of the leads are a second lead of
    an earlier customer (same mobile and place, another channel)."""
    folder.mkdir(parents=True, exist_ok=True)
    instance = generate(
        n_leads=leads, n_branches=branches, seed=seed, capacity_ratio=capacity_ratio, tiers=True
    )
    inputs = Inputs(folder / "BRANCHES.csv", folder / "LEADS.csv")
    _write_branches(instance, inputs.branches)
    _write_leads(instance, inputs.leads, seed=seed, repeat_share=repeat_share,
                 no_mobile_share=no_mobile_share)  # fmt: skip
    return inputs


def _write_branches(instance: Instance, path: Path) -> None:
    with path.open("w", encoding="utf-8", newline="") as stream:
        writer = csv.writer(stream)
        writer.writerow(BRANCH_HEADER)
        for j, code in enumerate(instance.branch_code):
            writer.writerow([
                code, f"Branch {code}", instance.branch_lat[j], instance.branch_lon[j],
                int(instance.capacity[j]), instance.branch_tiers[j], instance.branch_region[j],
            ])  # fmt: skip


def _write_leads(
    instance: Instance, path: Path, *, seed: int, repeat_share: float, no_mobile_share: float
) -> None:
    rng = np.random.default_rng(seed + 1)
    n = len(instance.lead_lat)
    first = np.arange(n)  # the lead that first brought this lead's customer
    repeats = np.flatnonzero(rng.random(n) < repeat_share)
    repeats = repeats[repeats > 0]
    first[repeats] = (rng.random(len(repeats)) * repeats).astype(np.int64)
    first = _resolve_first(first)
    channel = rng.integers(0, len(CHANNELS), n)
    # A returning customer comes through another channel than the one that first brought it.
    channel[repeats] = (channel[first[repeats]] + 1 + rng.integers(0, 3, len(repeats))) % 4
    has_mobile = rng.random(n) >= no_mobile_share
    lat, lon = instance.lead_lat.tolist(), instance.lead_lon.tolist()
    with path.open("w", encoding="utf-8", newline="") as stream:
        writer = csv.writer(stream)
        writer.writerow(LEAD_HEADER)
        for i, origin in enumerate(first.tolist()):
            mobile = f"13{origin:09d}" if has_mobile[origin] else ""
            writer.writerow([
                f"S{i:08d}", CHANNELS[channel[i]], mobile, instance.lead_tier[i],
                lat[origin], lon[origin], instance.lead_region[origin],
            ])  # fmt: skip


def _resolve_first(first: np.ndarray) -> np.ndarray:
    """Follow repeat-of-a-repeat chains to the customer's first lead (each points earlier)."""
    while True:
        deeper = first[first]
        if np.array_equal(deeper, first):
            return first
        first = deeper


def shard_of(row: dict[str, str], *, shards: int, secret: bytes) -> int:
    """The shard of a lead row: a hash of its customer's key, as the importer computes it."""
    mobile = normalise_mobile(row["mobile"]) if row["mobile"] else None
    key = (
        customer_key(mobile, secret=secret)
        if mobile
        else solo_customer_key(row["channel"], row["external_id"])
    )
    return int.from_bytes(hashlib.sha256(key.encode()).digest()[:8], "big") % shards


def split_leads(leads: Path, *, shards: int, secret: bytes) -> list[Path]:
    parts = [leads.with_name(f"{leads.stem}-part{k}of{shards}.csv") for k in range(shards)]
    streams = [p.open("w", encoding="utf-8", newline="") for p in parts]
    try:
        writers = [csv.DictWriter(s, fieldnames=LEAD_HEADER) for s in streams]
        for writer in writers:
            writer.writeheader()
        with leads.open(encoding="utf-8", newline="") as stream:
            for row in csv.DictReader(stream):
                writers[shard_of(row, shards=shards, secret=secret)].writerow(row)
    finally:
        for s in streams:
            s.close()
    return parts


def prepare_template(url: str, *, branches: Path) -> None:
    """A fresh, migrated database with the branches: every node of a run is a copy of it, so
    the branches (a reference table) have the same rows and ids everywhere."""
    fresh_database(url)
    engine = make_engine(settings_for(url))
    upgrade(engine)
    with session_scope(engine) as session:
        import_branches(session, path=branches, actor="bench")
    engine.dispose()


def copy_database(url: str, *, template: str, shard: int | None) -> None:
    """A copy of the template; a shard's distributed tables draw ids from its own range."""
    drop_databases([url])
    with psycopg.connect(_admin(url), autocommit=True) as conn:
        conn.execute(
            f'CREATE DATABASE "{make_url(url).database}" TEMPLATE "{make_url(template).database}"'
        )
    if shard is None:
        return
    with psycopg.connect(_plain(url), autocommit=True) as conn:
        for table in SHARD_SEQUENCES:
            row = conn.execute("SELECT pg_get_serial_sequence(%s, 'id')", (table,)).fetchone()
            assert row is not None, f"{table} has no id sequence"
            conn.execute(f"ALTER SEQUENCE {row[0]} RESTART WITH {(shard + 1) * ID_RANGE}")


def import_part(job: tuple[str, Path]) -> tuple[int, float]:
    """Import one lead file with the product's importer (run in a worker process)."""
    url, path = job
    settings = settings_for(url)
    engine = make_engine(settings)
    started = time.perf_counter()
    with session_scope(engine) as session:
        report = import_leads(
            session, path=path, actor="bench", secret=settings.customer_key, channel="app"
        )
    engine.dispose()
    return report.inserted, time.perf_counter() - started


def drop_databases(urls: Sequence[str]) -> None:
    for url in urls:
        with psycopg.connect(_admin(url), autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{make_url(url).database}" WITH (FORCE)')


def database_url(server: str, name: str) -> str:
    return make_url(server).set(database=name).render_as_string(hide_password=False)


def _plain(url: str) -> str:
    """A libpq URL (psycopg's own), whatever SQLAlchemy driver name the URL carries."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def _admin(url: str) -> str:
    return _plain(make_url(url).set(database="postgres").render_as_string(hide_password=False))

"""`o2o demo`: a realistic data set in real Chinese cities, loaded through the real importers.

Branches sit in every prefecture-level city (more in provincial capitals); leads cluster around
cities, carry real mobile prefixes of their home city, and arrive with the mix of location data
real channels give: coordinates from the app, only a division code from a partner, only a mobile
number from WeChat, and a few with nothing usable.
"""

from __future__ import annotations

import csv
import random
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy.engine import Engine
from sqlmodel import col, select

from allocation.locality import City, mobile_prefixes_for, prefecture_cities
from app.auth import Principal
from app.branches.importer import import_branches
from app.config import Settings
from app.db import session_scope
from app.journal.revenue_import.importer import import_revenue
from app.leads.followup import mark_contacted, mark_converted, return_lead
from app.leads.importer import import_leads
from app.rounds.service import RoundParams, run_round
from app.tables import AllocationRound, Branch, Lead
from app.tables.base import utcnow
from app.users.service import create_user
from ledger.periods import SHANGHAI

CHANNELS = (("app", 0.45), ("wechat", 0.3), ("partner_alipay", 0.15), ("partner_ctrip", 0.1))
TIERS = (("mass", 0.8), ("affluent", 0.17), ("hnw", 0.03))
# (revenue type, share of events, typical amount in yuan)
REVENUE_MIX = (
    ("brokerage_commission", 0.6, 180.0),
    ("product_fee", 0.2, 600.0),
    ("margin_interest", 0.15, 900.0),
    ("advisory_fee", 0.05, 2000.0),
)
BRANCH_HEADER = ["code", "name", "lat", "lon", "capacity", "tiers", "region_code"]
LEAD_HEADER = [
    "external_id",
    "channel",
    "name",
    "mobile",
    "tier",
    "lat",
    "lon",
    "region_code",
    "acquired_at",
]
REVENUE_HEADER = ["event_id", "external_id", "type", "amount", "occurred_at", "channel"]
RETURN_REASONS = ("客户已移居外地", "号码空号", "客户明确拒绝", "重复客户")
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英"


@dataclass(frozen=True, slots=True)
class DemoResult:
    logins: list[DemoLogin]
    round_id: int
    revenue: str  # the revenue import's summary line


@dataclass(frozen=True, slots=True)
class DemoLogin:
    username: str
    password: str
    role: str
    branch: str | None


def _weight(city: City) -> int:
    """Provincial capitals (xx01xx) and municipalities draw more branches and leads."""
    return 6 if city.code[2:4] == "01" else 1


def _pick(rng: random.Random, options: tuple[tuple[str, float], ...]) -> str:
    return rng.choices([name for name, _ in options], weights=[w for _, w in options])[0]


def branch_rows(
    cities: list[City], *, count: int, total_leads: int, rng: random.Random
) -> Iterator[list[str]]:
    chosen = _branch_cities(cities, count=count, rng=rng)
    per_branch = total_leads * 1.1 / count
    numbers: dict[str, int] = {}
    for index in chosen:
        city = cities[index]
        numbers[city.code] = numbers.get(city.code, 0) + 1
        n = numbers[city.code]
        tiers = "mass|affluent" if rng.random() < 0.2 else ""
        capacity = max(5, round(per_branch * rng.uniform(0.6, 1.4)))
        yield [
            f"{city.code}-{n:02d}",
            f"{city.name}第{n}营业部",
            f"{city.lat + rng.gauss(0, 0.04):.5f}",
            f"{city.lon + rng.gauss(0, 0.04):.5f}",
            str(capacity),
            tiers,
            city.code,
        ]


def _branch_cities(cities: list[City], *, count: int, rng: random.Random) -> list[int]:
    """Indexes of the city of each branch: every city once, extra branches in bigger cities."""
    if count <= len(cities):
        return sorted(rng.sample(range(len(cities)), count))
    weights = [_weight(c) for c in cities]
    extra = rng.choices(range(len(cities)), weights=weights, k=count - len(cities))
    return sorted([*range(len(cities)), *extra])


def lead_rows(cities: list[City], *, count: int, rng: random.Random) -> Iterator[list[str]]:
    weights = [_weight(c) for c in cities]
    now = utcnow()
    prefixes = {c.code: mobile_prefixes_for(c.code) for c in cities}
    for i in range(count):
        city = rng.choices(cities, weights=weights)[0]
        mobile = (
            (rng.choice(prefixes[city.code]) + f"{rng.randrange(10_000):04d}")
            if prefixes[city.code]
            else ""
        )
        lat, lon, region = _location_fields(city, rng)
        acquired = now - timedelta(minutes=rng.randrange(30 * 24 * 60))
        name = rng.choice(SURNAMES) + "".join(rng.choices(GIVEN, k=rng.choice((1, 2))))
        yield [
            f"D{i + 1:07d}",
            _pick(rng, CHANNELS),
            name,
            mobile,
            _pick(rng, TIERS),
            lat,
            lon,
            region,
            acquired.isoformat(timespec="seconds"),
        ]


def _location_fields(city: City, rng: random.Random) -> tuple[str, str, str]:
    roll = rng.random()
    if roll < 0.7:  # the app shares coordinates
        return f"{city.lat + rng.gauss(0, 0.12):.5f}", f"{city.lon + rng.gauss(0, 0.12):.5f}", ""
    if roll < 0.85:  # a partner passes only the division code
        return "", "", city.code
    return "", "", ""  # only the mobile number (or nothing) to go on


def _write_csv(path: Path, header: list[str], rows: Iterator[list[str]]) -> None:
    with path.open("w", encoding="utf-8", newline="") as stream:
        writer = csv.writer(stream)
        writer.writerow(header)
        writer.writerows(rows)


def demo_logins(first_branches: list[str]) -> list[DemoLogin]:
    logins = [
        DemoLogin("hq_admin", "demo-hq-2026", "hq", None),
        DemoLogin("finance", "demo-finance-2026", "finance", None),
        DemoLogin("auditor", "demo-auditor-2026", "auditor", None),
    ]
    for n, code in enumerate(first_branches, start=1):
        logins.append(DemoLogin(f"branch{n}", f"demo-branch{n}-2026", "branch", code))
    return logins


def _simulate_follow_up(engine: Engine, *, rng: random.Random, sample: int = 1_500) -> None:
    """Branches have been at work: some leads contacted, some converted, a few returned."""
    with session_scope(engine) as session:
        assigned = session.exec(
            select(Lead.id, Lead.branch_id).where(Lead.status == "assigned")
        ).all()
        codes = {b.id: b.code for b in session.exec(select(Branch))}
        for lead_id, branch_id in rng.sample(list(assigned), min(sample, len(assigned))):
            assert lead_id is not None
            staff = Principal(
                user_id=0,
                username="demo",
                role="branch",
                branch_id=branch_id,
                branch_code=codes[branch_id],
            )
            roll = rng.random()
            if roll < 0.08:
                return_lead(
                    session, principal=staff, lead_id=lead_id, reason=rng.choice(RETURN_REASONS)
                )
                continue
            mark_contacted(session, principal=staff, lead_id=lead_id)
            if roll < 0.35:
                mark_converted(session, principal=staff, lead_id=lead_id)


def revenue_rows(
    engine: Engine, *, rng: random.Random, since: datetime, events: int
) -> Iterator[list[str]]:
    """This month's revenue from customers the branches now serve (after the round, so it is
    credited to them), plus some from earlier this month, before anyone owned them (suspense)."""
    with session_scope(engine) as session:
        served = session.exec(
            select(Lead.external_id, Lead.channel).where(
                col(Lead.status).in_(("contacted", "converted"))
            )
        ).all()
    if not served:
        return
    now = utcnow()
    month_start = now.astimezone(SHANGHAI).replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    names, weights = [m[0] for m in REVENUE_MIX], [m[1] for m in REVENUE_MIX]
    typical = {m[0]: m[2] for m in REVENUE_MIX}
    for n in range(events):
        external_id, channel = rng.choice(served)
        kind = rng.choices(names, weights=weights)[0]
        fen = max(1, round(rng.lognormvariate(0, 0.8) * typical[kind] * 100))
        fen = -fen if rng.random() < 0.02 else fen  # the odd refund
        early = rng.random() < 0.1 and month_start < since
        start = month_start if early else since
        end = since if early else now
        occurred = start + (end - start) * rng.random()
        yield [
            f"DEMO-REV-{n + 1:06d}",
            external_id,
            kind,
            f"{fen / 100:.2f}",
            occurred.isoformat(),
            channel,
        ]


def post_demo_revenue(
    engine: Engine, *, rng: random.Random, since: datetime, events: int = 3_000
) -> str:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "revenue.csv"
        _write_csv(path, REVENUE_HEADER, revenue_rows(engine, rng=rng, since=since, events=events))
        with session_scope(engine) as session:
            return import_revenue(session, path=path, actor="demo").summary()


def load_demo(
    engine: Engine, settings: Settings, *, leads: int, branches: int, seed: int = 2026
) -> DemoResult:
    rng = random.Random(seed)
    cities = prefecture_cities()
    with tempfile.TemporaryDirectory() as folder:
        branch_csv, lead_csv = Path(folder) / "branches.csv", Path(folder) / "leads.csv"
        branch_list = list(branch_rows(cities, count=branches, total_leads=leads, rng=rng))
        _write_csv(branch_csv, BRANCH_HEADER, iter(branch_list))
        _write_csv(lead_csv, LEAD_HEADER, lead_rows(cities, count=leads, rng=rng))
        with session_scope(engine) as session:
            import_branches(session, path=branch_csv, actor="demo")
            import_leads(session, path=lead_csv, actor="demo", secret=settings.customer_key)
    round_id = run_round(engine, settings=settings, actor="demo", params=RoundParams(), commit=True)
    _simulate_follow_up(engine, rng=rng)
    with session_scope(engine) as session:
        committed_at = session.get(AllocationRound, round_id).committed_at  # type: ignore[union-attr]
    assert committed_at is not None
    revenue = post_demo_revenue(engine, rng=rng, since=committed_at)
    logins = demo_logins([branch_list[0][0], branch_list[1][0]])
    with session_scope(engine) as session:
        for login in logins:
            create_user(
                session,
                username=login.username,
                password=login.password,
                role=login.role,
                branch_code=login.branch,
                actor="demo",
            )
    return DemoResult(logins=logins, round_id=round_id, revenue=revenue)

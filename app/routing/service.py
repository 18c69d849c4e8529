"""Routing between rounds (issue 16.2): a new lead reaches a branch at once.

A new customer is given, in the transaction that brought its lead in, to the eligible branch
with room where distance + the last committed round's price is least (`allocation.routing`):
the rule the round's prices make optimal. Eligibility is the round's (`holdings.serves`: active
and serving the customer's tier, the highest of its leads'), the distance and its limit are the
round's (haversine km, the round's `max_distance_km`), room is the load counted the one way
every path counts it (`holdings.branch_load`), or that count kept since while the database
recorded nothing that could change it (`load_floor`: full branches are skipped and a branch
untouched since its count is not counted again), and the ownership interval opens
through `ownership.service.take_customer` (`opened_by = 'routed'`, `round_id` = the round
priced by).

A lead waits for the next round when routing is off, before the first committed round, when it
has no location, no eligible branch with room within the limit, or when its customer has
another lead waiting already (the customer is one unit: the round places them together).

Concurrency: the active branch rows are locked in id order (`SELECT ... FOR UPDATE`, as a
round commit does) before anything is counted, so two intakes cannot both take a branch's last
place, and no lock order can deadlock against a commit or a transfer (which locks one row).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, fields
from datetime import datetime
from typing import NamedTuple

import numpy as np
import numpy.typing as npt
from sqlalchemy import bindparam
from sqlalchemy import select as sa_select
from sqlalchemy.orm import aliased
from sqlmodel import Session, col

from allocation.routing import Branches, preference
from app import audit
from app.bulk import plain_rows
from app.notifications.service import notify_assigned
from app.ownership.holdings import customer_tier, serves
from app.ownership.load_floor import LoadBook, load_now, placed_one_customer, read_book
from app.ownership.service import take_customer
from app.routing.prices import RoundPrices, last_committed_prices
from app.routing.switch import routing_enabled
from app.tables import Branch, Lead
from app.tables.base import utcnow


class LockedBranch(NamedTuple):
    """An active branch row as routing reads it: the driver's tuple, named (no ORM object,
    nor a dataclass, per branch: 300 of them per intake)."""

    id: int
    code: str
    lat: float
    lon: float
    capacity: int
    tiers: str
    active: bool


_LOCKED_COLUMNS = tuple(col(getattr(Branch, name)) for name in LockedBranch._fields)


@dataclass(frozen=True, slots=True)
class WaitingLead:
    """A new lead as routing reads it (plain columns)."""

    id: int
    customer_id: int
    tier: str
    lat: float | None
    lon: float | None


_WAITING_COLUMNS = tuple(col(getattr(Lead, f.name)) for f in fields(WaitingLead))
_OTHER_LEAD = aliased(Lead)

# Built once: building and keying these cost more than running them (a routed intake).
_WAITING = (
    sa_select(*_WAITING_COLUMNS, col(Lead.status))
    .where(col(Lead.id).in_(bindparam("lead_ids", expanding=True)))
    .where(
        ~sa_select(col(_OTHER_LEAD.id))
        .where(col(_OTHER_LEAD.customer_id) == col(Lead.customer_id))
        .where(col(_OTHER_LEAD.id).not_in(bindparam("lead_ids", expanding=True)))
        .exists()
    )
    .order_by(col(Lead.id))
)
_LOCK_ACTIVE_BRANCHES = (
    sa_select(*_LOCKED_COLUMNS).where(col(Branch.active)).order_by(col(Branch.id)).with_for_update()
)


@dataclass(frozen=True, slots=True)
class Routed:
    """A customer given to a branch between rounds (its leads, all now at the branch)."""

    lead_ids: tuple[int, ...]
    branch_id: int
    branch_code: str
    round_id: int
    distance_km: float
    price_km: float


def route_new_leads(session: Session, *, lead_ids: Sequence[int], actor: str) -> list[Routed]:
    """Route the given new leads that may be routed; the others wait for the next round.

    The one place leads are assigned between rounds; each branch that gets leads is told
    (app/notifications) in the same transaction. The leads are read as plain rows: the
    caller's session must not hold them as objects.
    """
    if not lead_ids or not routing_enabled(session):
        return []
    # Read once, before the locks: these leads are this transaction's own, and a concurrent
    # lead of the same customer was serialised by the customer's key when it was imported.
    customers = _waiting_customers(session, lead_ids)
    if not customers:
        return []
    branches = _lock_active_branches(session)
    prices = last_committed_prices(session)  # read under the lock: a commit may just have ended
    if prices is None:
        return []
    columns = _columns(branches, prices)
    book = read_book(session)  # kept up to date as this request fills branches
    now, routed, eligible = utcnow(), [], _Eligibility(branches)
    for leads in customers:
        done = _route_customer(session, leads=leads, branches=branches, columns=columns,
                               eligible=eligible, prices=prices, book=book, now=now)  # fmt: skip
        if done is not None:
            _audit(session, done, actor=actor)
            routed.append(done)
    _tell_branches(session, routed)
    return routed


def _tell_branches(session: Session, routed: list[Routed]) -> None:
    """One notification per branch that got leads, in this transaction (its outbox row too)."""
    by_branch: dict[int, list[int]] = {}
    for done in routed:
        by_branch.setdefault(done.branch_id, []).extend(done.lead_ids)
    for branch_id, lead_ids in sorted(by_branch.items()):
        notify_assigned(session, branch_id, lead_ids, source="routing")


def _waiting_customers(session: Session, lead_ids: Sequence[int]) -> list[list[WaitingLead]]:
    """The customers of the given leads that have no lead outside them (none owned, none
    waiting in the pool already) and whose leads are all `new`: each customer's leads in id
    order, customers in the order of their first lead."""
    by_customer: dict[int, list[WaitingLead]] = {}
    blocked = set()
    for *values, status in plain_rows(session, _WAITING, {"lead_ids": list(lead_ids)}):
        lead = WaitingLead(*values)
        by_customer.setdefault(lead.customer_id, []).append(lead)
        if status != "new":
            blocked.add(lead.customer_id)
    return [leads for customer, leads in by_customer.items() if customer not in blocked]


def _lock_active_branches(session: Session) -> list[LockedBranch]:
    return list(map(LockedBranch._make, plain_rows(session, _LOCK_ACTIVE_BRANCHES)))


class _Eligibility:
    """Which locked branches serve a tier (`holdings.serves`), worked out once per tier."""

    def __init__(self, branches: list[LockedBranch]) -> None:
        self._branches = branches
        self._by_tier: dict[str, npt.NDArray[np.bool_]] = {}

    def serving(self, tier: str) -> npt.NDArray[np.bool_]:
        if tier not in self._by_tier:
            self._by_tier[tier] = np.array([serves(b, tier) for b in self._branches], np.bool_)
        return self._by_tier[tier]


def _columns(branches: list[LockedBranch], prices: RoundPrices) -> Branches:
    return Branches(
        lat=np.array([b.lat for b in branches], np.float64),
        lon=np.array([b.lon for b in branches], np.float64),
        price_km=np.array([prices.of(b.id) for b in branches], np.float64),
    )


def _route_customer(
    session: Session,
    *,
    leads: list[WaitingLead],
    branches: list[LockedBranch],
    columns: Branches,
    eligible: _Eligibility,
    prices: RoundPrices,
    book: LoadBook,
    now: datetime,
) -> Routed | None:
    tier = customer_tier(x.tier for x in leads)
    first = leads[0]  # the round's representative of a customer: its first lead
    preferred = preference(lat=first.lat, lon=first.lon, branches=columns,
                           eligible=eligible.serving(tier),
                           max_distance_km=prices.max_distance_km)  # fmt: skip
    for k, distance in zip(preferred.order.tolist(), preferred.distance_km.tolist(), strict=True):
        branch = branches[k]
        if book.known_full(branch.id, branch.capacity):
            continue
        load = load_now(session, branch.id, book)
        if load >= branch.capacity:
            continue
        lead_ids = tuple(x.id for x in leads)
        take_customer(session, customer_id=first.customer_id, lead_ids=lead_ids,
                           branch_id=branch.id, at=now, opened_by="routed",
                           round_id=prices.round_id)  # fmt: skip
        placed_one_customer(session, branch.id, book, load_before=load)
        return Routed(
            lead_ids=lead_ids, branch_id=branch.id, branch_code=branch.code,
            round_id=prices.round_id, distance_km=distance,
            price_km=float(columns.price_km[k]),
        )  # fmt: skip
    return None


def _audit(session: Session, routed: Routed, *, actor: str) -> None:
    """One record per lead (the lead page's timeline reads its own)."""
    price = routed.price_km if np.isfinite(routed.price_km) else None
    for lead_id in routed.lead_ids:
        audit.record(
            session, actor=actor, action="lead.routed", entity_type="lead", entity_id=lead_id,
            detail={"branch": routed.branch_code, "round": routed.round_id,
                    "distance_km": round(routed.distance_km, 3), "price_km": price},
        )  # fmt: skip

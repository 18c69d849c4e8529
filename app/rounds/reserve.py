"""Room a round keeps for the arrivals expected before the next round (issue 16.2).

Routing never moves an assigned lead, so a round that fills the branches near where customers
arrive sends the day's arrivals far away. HQ may ask a round to keep room for them
(`reserve_for_arrivals`, off by default): the round is solved together with forecast arrivals
(allocation.forecast), and the places they take stay free for routing.

The rule, one place:
- What arrives: leads of a channel that pushes through the intake API (its channel has an API
  key, `o2o channels`) created in the last `reserve_window_days` (default 7).
- How many to keep: a number HQ gives, or `auto`: that intake x `reserve_horizon_days` /
  `reserve_window_days` (default 1 of 7: the arrivals of one day), rounded up. Never more than
  the spare room (active branches' remaining places less the customers in the pool), so that
  the forecast does not crowd out the customers present.
- Where: evenly spaced picks over the recent arrivals with a location (by id, repeating when
  more are wanted than there are), with their points, tiers and regions. No recent arrival:
  nothing is kept, and the round's figures say so.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

from sqlalchemy import select
from sqlmodel import Session, col

from allocation.model import BranchSpec, LeadSpec
from app.config import Settings
from app.tables import ChannelKey, Lead

AUTO: Literal["auto"] = "auto"
MAX_RESERVE = 1_000_000  # a count HQ gives: far above a day's arrivals
ReserveAsked = int | Literal["auto"] | None  # None: keep no room (the default)


@dataclass(frozen=True)
class Forecast:
    """The forecast arrivals of a round and how their number was reached (round figures)."""

    leads: list[LeadSpec]
    figures: dict[str, Any]


def recent_arrivals(session: Session, *, now: datetime, window_days: int) -> list[LeadSpec]:
    """Intake leads created in the window, in id order (those without a location included:
    they count as arrivals, but are never picked as a place)."""
    pushing = select(col(ChannelKey.channel)).distinct()
    query = (
        select(col(Lead.id), col(Lead.lat), col(Lead.lon), col(Lead.tier), col(Lead.region_code),
               col(Lead.channel))
        .where(col(Lead.channel).in_(pushing))
        .where(col(Lead.created_at) >= now - timedelta(days=window_days))
        .order_by(col(Lead.id))
    )  # fmt: skip
    return [
        LeadSpec(external_id=str(row[0]), lat=row[1], lon=row[2], tier=row[3],
                 region_code=row[4], channel=row[5])
        for row in session.execute(query)
    ]  # fmt: skip


def forecast_for(
    asked: ReserveAsked,
    *,
    recent: Sequence[LeadSpec],
    branches: Sequence[BranchSpec],
    customers: int,
    settings: Settings,
) -> Forecast | None:
    """The forecast a round is solved with; None when HQ asked for no room."""
    if asked is None:
        return None
    window, horizon = settings.reserve_window_days, settings.reserve_horizon_days
    wanted = math.ceil(len(recent) * horizon / window) if asked == AUTO else int(asked)
    spare = max(0, sum(b.capacity for b in branches if b.active) - customers)
    located = [x for x in recent if x.lat is not None and x.lon is not None]
    count = min(wanted, spare) if located else 0
    picks = [located[k * len(located) // count] for k in range(count)] if count else []
    leads = [_phantom(x, number=k) for k, x in enumerate(picks, start=1)]
    figures = {
        "asked": asked, "expected": wanted, "spare_room": spare, "forecast_leads": count,
        "recent_arrivals": len(recent), "window_days": window,
        "horizon_days": horizon if asked == AUTO else None,
    }  # fmt: skip
    return Forecast(leads=leads, figures=figures)


def _phantom(arrival: LeadSpec, *, number: int) -> LeadSpec:
    """A forecast lead at a recent arrival's place; its id can never be a lead id's digits."""
    return LeadSpec(external_id=f"forecast-{number}", lat=arrival.lat, lon=arrival.lon,
                    tier=arrival.tier, region_code=arrival.region_code,
                    channel=arrival.channel)  # fmt: skip


def parse_reserve(text: str | None) -> ReserveAsked:
    """'' or None: off; 'auto'; or a whole number of places 0..MAX_RESERVE (ValueError with an
    English reason otherwise: callers say it their way)."""
    value = (text or "").strip().lower()
    if not value:
        return None
    if value == AUTO:
        return AUTO
    if not value.isdigit() or int(value) > MAX_RESERVE:
        raise ValueError(f"reserve_for_arrivals is 'auto' or a whole number 0 to {MAX_RESERVE:,}")
    return int(value)


def forecast_json(leads: Sequence[LeadSpec]) -> list[list[Any]]:
    """The forecast in a round's snapshot, so that a replay solves the same problem."""
    return [[x.lat, x.lon, x.tier, x.region_code, x.channel] for x in leads]


def forecast_from_json(rows: Sequence[Sequence[Any]] | None) -> list[LeadSpec]:
    return [
        LeadSpec(external_id=f"forecast-{k}", lat=lat, lon=lon, tier=tier, region_code=region,
                 channel=channel)
        for k, (lat, lon, tier, region, channel) in enumerate(rows or (), start=1)
    ]  # fmt: skip

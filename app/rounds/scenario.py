"""What-if scenarios (issue 15.1): the file/body format and its validation.

Keys (contract §9): `capacity` {code: n} (the branch's total capacity, counted like every other
capacity: customers in follow-up), `close` [codes] (their open leads go back to the pool),
`open` [{code, name, lat, lon, capacity, tiers}], `tiers` {code: "mass|affluent"} ("" = all),
`max_distance_km`, `balance_weight`, and the objective of issue 15.4: `objective`
(distance|tier_priority|expected_value), `tier_weights_km` {tier: km}, `price_per_km_fen`;
and the room kept for arrivals of issue 16.2: `reserve_for_arrivals` ("auto" or a count).
Every error names the field it is about.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterable
from typing import Annotated, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError, field_validator
from pydantic_core import ErrorDetails

from allocation.model import BRANCH_CODE, BUILT_IN_TIERS, MAX_WEIGHT
from allocation.value import DEFAULT_PRICE_PER_KM_FEN, MAX_VALUE_KM
from app.errors import InvalidInput
from app.rounds.reserve import MAX_RESERVE
from coded_messages import Message, message

Code = Annotated[str, Field(pattern=BRANCH_CODE.pattern, max_length=32)]
TIER_NAME = r"[A-Za-z0-9_-]{1,32}"
# The limits of pydantic's errors a message carries (`ge` of greater_than_equal, ...).
LIMITS = ("ge", "gt", "le", "lt", "max_length", "min_length", "pattern")


def _tier_list(value: object) -> str:
    if isinstance(value, str):
        raw = value.split("|")
    elif isinstance(value, list) and all(isinstance(n, str) for n in value):
        raw = list(value)
    else:
        raise ValueError("must be a string like 'mass|affluent' or a list of tier names")
    names = [n.strip() for n in raw if n.strip()]
    for name in names:
        if not _is_tier(name):
            raise ValueError(f"tier {name!r} is not a tier name")
    return "|".join(sorted(set(names)))


def _is_tier(name: str) -> bool:
    return re.fullmatch(TIER_NAME, name) is not None


TierList = Annotated[str, BeforeValidator(_tier_list)]


class NewBranch(BaseModel):
    model_config = ConfigDict(extra="forbid")

    code: Code
    name: str = Field(min_length=1, max_length=200)
    lat: float = Field(ge=-90, le=90)
    lon: float = Field(ge=-180, le=180)
    capacity: int = Field(ge=0, le=10_000_000)
    tiers: TierList = ""  # "mass|affluent" or a list; empty: every tier


class Scenario(BaseModel):
    model_config = ConfigDict(extra="forbid")

    capacity: dict[Code, Annotated[int, Field(ge=0, le=10_000_000)]] = {}
    close: list[Code] = []
    open: list[NewBranch] = []
    tiers: dict[Code, TierList] = {}
    max_distance_km: float | None = Field(default=None, gt=0, le=20_000)
    balance_weight: float = Field(default=0.0, ge=0, le=MAX_WEIGHT)
    objective: Literal["distance", "tier_priority", "expected_value"] = "distance"
    tier_weights_km: dict[str, Annotated[float, Field(ge=0, le=MAX_VALUE_KM)]] | None = None
    price_per_km_fen: int = Field(default=DEFAULT_PRICE_PER_KM_FEN, ge=1, le=10**9)
    reserve_for_arrivals: (
        Annotated[int, Field(ge=0, le=MAX_RESERVE, strict=True)] | Literal["auto"] | None
    ) = None

    @field_validator("max_distance_km", "balance_weight")
    @classmethod
    def _finite(cls, value: float | None) -> float | None:
        if value is not None and not math.isfinite(value):
            raise ValueError("must be a finite number")
        return value

    @field_validator("tier_weights_km")
    @classmethod
    def _tiers(cls, value: dict[str, float] | None) -> dict[str, float] | None:
        for tier in value or {}:
            if tier not in BUILT_IN_TIERS:
                raise ValueError(f"unknown tier {tier!r}; use {', '.join(BUILT_IN_TIERS)}")
        return value


def parse_scenario(text: str, *, source: str = "scenario") -> Scenario:
    """JSON text -> Scenario; InvalidInput naming the field (e.g. `capacity.SZ-FT`)."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        not_json = message("scenario.not_json", source=source, detail=exc.msg, line=exc.lineno)
        raise InvalidInput(not_json) from None
    return scenario_from(data, source=source)


def scenario_from(data: object, *, source: str = "scenario") -> Scenario:
    if not isinstance(data, dict):
        raise InvalidInput(message("scenario.not_object", source=source))
    try:
        return Scenario.model_validate(data)
    except ValidationError as exc:
        problems = tuple(_field_error(error) for error in exc.errors())
        raise InvalidInput(message("scenario.invalid", source=source, problems=problems)) from None


def _field_error(error: ErrorDetails) -> Message:
    """Pydantic's error as a message: its `type` is the kind, its `ctx` the limits."""
    where = ".".join(str(part) for part in error["loc"]) or "(top level)"
    if error["type"] == "extra_forbidden":
        return message("scenario.unknown_key", field=where)
    limits = {k: _number(v) for k, v in error.get("ctx", {}).items() if k in LIMITS}
    detail = str(error["msg"]).removeprefix("Value error, ")
    return message("scenario.field", field=where, kind=error["type"], detail=detail, **limits)


def _number(value: object) -> str:
    """A limit as pydantic's English writes it: 0, not 0.0."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def check_references(scenario: Scenario, *, codes: Iterable[str]) -> None:
    """Codes must name existing branches; new codes must not; nothing twice."""
    known = set(codes)
    problems = [
        message("scenario.unknown_branch", field=f"{key}.{code}")
        for key, names in (("capacity", scenario.capacity), ("tiers", scenario.tiers))
        for code in names
        if code not in known
    ]
    problems += [
        message("scenario.unknown_branch", field=f"close.{code}")
        for code in scenario.close
        if code not in known
    ]
    seen: set[str] = set()
    for k, branch in enumerate(scenario.open):
        if branch.code in known:
            problems.append(message("scenario.branch_exists", field=f"open.{k}.code",
                                    branch=branch.code))  # fmt: skip
        if branch.code in seen:
            problems.append(message("scenario.opened_twice", field=f"open.{k}.code",
                                    branch=branch.code))  # fmt: skip
        seen.add(branch.code)
    if len(set(scenario.close)) != len(scenario.close):
        problems.append(message("scenario.closed_twice"))
    if problems:
        raise InvalidInput(message("scenario.invalid", source="scenario", problems=tuple(problems)))

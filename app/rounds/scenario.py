"""What-if scenarios (issue 15.1): the file/body format and its validation.

Keys (SPEC 9): `capacity` {code: n} (the branch's total capacity, counted like every other
capacity: customers in follow-up), `close` [codes] (their open leads go back to the pool),
`open` [{code, name, lat, lon, capacity, tiers}], `tiers` {code: "mass|affluent"} ("" = all),
`max_distance_km`, `balance_weight`. Every error names the field it is about.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterable
from typing import Annotated

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError, field_validator

from allocation.model import BRANCH_CODE, MAX_WEIGHT
from app.errors import InvalidInput

Code = Annotated[str, Field(pattern=BRANCH_CODE.pattern, max_length=32)]
TIER_NAME = r"[A-Za-z0-9_-]{1,32}"


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

    @field_validator("max_distance_km", "balance_weight")
    @classmethod
    def _finite(cls, value: float | None) -> float | None:
        if value is not None and not math.isfinite(value):
            raise ValueError("must be a finite number")
        return value


def parse_scenario(text: str, *, source: str = "scenario") -> Scenario:
    """JSON text -> Scenario; InvalidInput naming the field (e.g. `capacity.SZ-FT`)."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InvalidInput(f"{source}: not JSON: {exc.msg} at line {exc.lineno}") from None
    return scenario_from(data, source=source)


def scenario_from(data: object, *, source: str = "scenario") -> Scenario:
    if not isinstance(data, dict):
        raise InvalidInput(f"{source}: must be a JSON object")
    try:
        return Scenario.model_validate(data)
    except ValidationError as exc:
        raise InvalidInput(f"{source}: " + "; ".join(_field_errors(exc))) from None


def _field_errors(exc: ValidationError) -> list[str]:
    out = []
    for error in exc.errors():
        where = ".".join(str(part) for part in error["loc"]) or "(top level)"
        message = str(error["msg"]).removeprefix("Value error, ")
        if error["type"] == "extra_forbidden":
            message = "unknown key"
        out.append(f"{where}: {message}")
    return out


def check_references(scenario: Scenario, *, codes: Iterable[str]) -> None:
    """Codes must name existing branches; new codes must not; nothing twice."""
    known = set(codes)
    problems = [
        f"{key}.{code}: no branch has this code"
        for key, names in (("capacity", scenario.capacity), ("tiers", scenario.tiers))
        for code in names
        if code not in known
    ]
    problems += [
        f"close.{code}: no branch has this code" for code in scenario.close if code not in known
    ]
    seen: set[str] = set()
    for k, branch in enumerate(scenario.open):
        if branch.code in known:
            problems.append(f"open.{k}.code: branch {branch.code} already exists")
        if branch.code in seen:
            problems.append(f"open.{k}.code: {branch.code} is opened twice")
        seen.add(branch.code)
    if len(set(scenario.close)) != len(scenario.close):
        problems.append("close: a branch is listed twice")
    if problems:
        raise InvalidInput("scenario: " + "; ".join(problems))

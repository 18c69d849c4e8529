"""The allocation problem (contract §5): specs in, columnar tables for the solvers, plan out.

Record-style specs (`BranchSpec`, `LeadSpec`, `PairSpec`) are what services build; a problem
stores them as column arrays (`BranchTable`, `LeadTable`, `PairTable`) because a round may hold
1.3 million leads and the solvers work on whole columns. Everything validates on construction
and raises the named errors of `allocation.errors`.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Literal, NamedTuple

import numpy as np
from numpy.typing import NDArray

from allocation.errors import DuplicateKeyError, InvalidValueError, UnknownReferenceError
from allocation.value import LeadValues, ObjectiveSpec, lead_values

Status = Literal["optimal", "feasible", "infeasible"]
Method = Literal["optimal", "greedy", "round_robin", "weighted_random"]
BUILT_IN_TIERS = ("mass", "affluent", "hnw")
DEFAULT_TIER = "mass"
MAX_WEIGHT = 1e6  # km per lead at full load; far above any useful balance weight
BRANCH_CODE = re.compile(r"[A-Za-z0-9_-]{1,32}")
IntArray = NDArray[np.int64]
FloatArray = NDArray[np.float64]
BoolArray = NDArray[np.bool_]


class Reason(StrEnum):
    """Why a lead is unassigned (contract §5)."""

    NO_LOCATION = "no_location"
    NO_ELIGIBLE_BRANCH = "no_eligible_branch"
    CAPACITY_EXHAUSTED = "capacity_exhausted"
    BEYOND_MAX_DISTANCE = "beyond_max_distance"


# Reason codes in plan arrays: 0 = assigned, k = REASONS[k - 1].
REASONS: tuple[Reason, ...] = tuple(Reason)
ASSIGNED = 0


def reason_code(reason: Reason) -> int:
    return REASONS.index(reason) + 1


def _frozen(array: NDArray[np.generic]) -> NDArray[np.generic]:
    array.setflags(write=False)
    return array


def _check_point(lat: float, lon: float, *, record: int, what: str) -> None:
    if not (math.isfinite(lat) and -90.0 <= lat <= 90.0):
        raise InvalidValueError(
            f"{what} {record}: lat {lat} outside [-90, 90]", record=record, field="lat"
        )
    if not (math.isfinite(lon) and -180.0 <= lon <= 180.0):
        raise InvalidValueError(
            f"{what} {record}: lon {lon} outside [-180, 180]", record=record, field="lon"
        )


@dataclass(frozen=True, slots=True)
class BranchSpec:
    """A branch office with remaining capacity; empty `tiers` means it serves every tier."""

    code: str
    name: str
    lat: float
    lon: float
    capacity: int
    tiers: frozenset[str] = frozenset()
    region_code: str | None = None
    active: bool = True


class LeadSpec(NamedTuple):
    """A lead with its resolved point (None when nothing resolved: `no_location`). A named
    tuple, immutable like a frozen dataclass and built in less than half the time, which a
    round of 1.3M leads pays once per lead (0.48 s against 1.10 s)."""

    external_id: str
    lat: float | None = None
    lon: float | None = None
    tier: str = DEFAULT_TIER
    region_code: str | None = None
    channel: str = ""  # only the expected_value objective reads it


@dataclass(frozen=True, slots=True)
class PairSpec:
    """Pair mode: an eligible lead-branch pair with its own cost and workload."""

    external_id: str
    branch_code: str
    cost: float
    workload: int = 1


@dataclass(frozen=True, slots=True)
class AllocationParams:
    """Round parameters. balance_weight is in cost units (km) per lead at full load."""

    balance_weight: float = 0.0
    max_distance_km: float | None = None

    def __post_init__(self) -> None:
        # The cap keeps every flow cost (x1000, times the network size) inside int64.
        if not (math.isfinite(self.balance_weight) and 0 <= self.balance_weight <= MAX_WEIGHT):
            raise InvalidValueError(
                f"balance_weight must be a number in [0, {MAX_WEIGHT:g}]", field="balance_weight"
            )
        d = self.max_distance_km
        if d is not None and not (math.isfinite(d) and d >= 0):
            raise InvalidValueError(
                "max_distance_km must be a finite number >= 0", field="max_distance_km"
            )


@dataclass(frozen=True)
class BranchTable:
    """Branches as columns; `serves[j, t]` says whether branch j serves tier t."""

    codes: tuple[str, ...]
    names: tuple[str, ...]
    lat: FloatArray
    lon: FloatArray
    capacity: IntArray
    serves: BoolArray
    active: BoolArray
    region_codes: tuple[str | None, ...]

    def __post_init__(self) -> None:
        n = len(self.codes)
        if not (
            len(self.names)
            == len(self.lat)
            == len(self.lon)
            == len(self.capacity)
            == len(self.serves)
            == len(self.active)
            == len(self.region_codes)
            == n
        ):
            raise InvalidValueError("branch columns differ in length")
        seen: dict[str, int] = {}
        for j, code in enumerate(self.codes):
            if not BRANCH_CODE.fullmatch(code):
                raise InvalidValueError(
                    f"branch code {code!r} is not [A-Za-z0-9_-]{{1,32}}", record=j, field="code"
                )
            if code in seen:
                raise DuplicateKeyError(
                    f"branch code {code!r} appears twice", record=j, field="code"
                )
            seen[code] = j
            _check_point(float(self.lat[j]), float(self.lon[j]), record=j, what="branch")
        if n and int(self.capacity.min()) < 0:
            j = int(np.argmin(self.capacity))
            raise InvalidValueError("capacity must be >= 0", record=j, field="capacity")
        for a in (self.lat, self.lon, self.capacity, self.serves, self.active):
            _frozen(a)

    @property
    def size(self) -> int:
        return len(self.codes)

    def index(self) -> dict[str, int]:
        return {code: j for j, code in enumerate(self.codes)}


@dataclass(frozen=True)
class LeadTable:
    """Leads as columns; lat/lon NaN when unresolved, `tier` indexes `AllocationProblem.tiers`."""

    external_ids: Sequence[str]
    lat: FloatArray
    lon: FloatArray
    tier: IntArray
    region_codes: Sequence[str | None]

    def __post_init__(self) -> None:
        n = len(self.external_ids)
        if not (len(self.lat) == len(self.lon) == len(self.tier) == len(self.region_codes) == n):
            raise InvalidValueError("lead columns differ in length")
        if len(set(self.external_ids)) != n:
            first = _first_duplicate(self.external_ids)
            raise DuplicateKeyError(
                f"external_id {self.external_ids[first]!r} appears twice",
                record=first,
                field="external_id",
            )
        _check_lead_points(self.lat, self.lon)
        for a in (self.lat, self.lon, self.tier):
            _frozen(a)

    @property
    def size(self) -> int:
        return len(self.external_ids)

    @property
    def located(self) -> BoolArray:
        return np.asarray(~np.isnan(self.lat) & ~np.isnan(self.lon))


def _first_duplicate(keys: Sequence[str]) -> int:
    seen: set[str] = set()
    for i, key in enumerate(keys):
        if key in seen:
            return i
        seen.add(key)
    return -1


def _check_lead_points(lat: FloatArray, lon: FloatArray) -> None:
    if np.any(np.isnan(lat) != np.isnan(lon)):
        i = int(np.flatnonzero(np.isnan(lat) != np.isnan(lon))[0])
        raise InvalidValueError(
            f"lead {i}: lat and lon must be given together", record=i, field="lat"
        )
    bad = (np.abs(lat) > 90) | (np.abs(lon) > 180) | np.isinf(lat) | np.isinf(lon)
    if np.any(bad):
        i = int(np.flatnonzero(bad)[0])
        _check_point(float(lat[i]), float(lon[i]), record=i, what="lead")


@dataclass(frozen=True)
class PairTable:
    """Pair mode columns, sorted by (lead, branch); cost in the caller's cost units."""

    lead: IntArray
    branch: IntArray
    cost: FloatArray
    workload: IntArray

    def __post_init__(self) -> None:
        if not (len(self.lead) == len(self.branch) == len(self.cost) == len(self.workload)):
            raise InvalidValueError("pair columns differ in length")
        bad_cost = ~np.isfinite(self.cost) | (self.cost < 0)
        if np.any(bad_cost):
            k = int(np.flatnonzero(bad_cost)[0])
            raise InvalidValueError("cost must be a finite number >= 0", record=k, field="cost")
        if np.any(self.workload < 1):
            k = int(np.flatnonzero(self.workload < 1)[0])
            raise InvalidValueError("workload must be an integer >= 1", record=k, field="workload")
        key = self.lead * (1 << 20) + self.branch
        if len(key) > 1 and np.any(np.diff(key) <= 0):
            k = int(np.flatnonzero(np.diff(key) <= 0)[0]) + 1
            kind = DuplicateKeyError if key[k] == key[k - 1] else InvalidValueError
            raise kind(
                "pairs must be unique and sorted by (lead, branch)", record=k, field="branch_code"
            )
        for a in (self.lead, self.branch, self.cost, self.workload):
            _frozen(a)

    @property
    def unit_workload(self) -> bool:
        return bool(np.all(self.workload == 1))


@dataclass(frozen=True)
class AllocationProblem:
    """One round's data: branches, leads, optional pairs (pair mode) and parameters.

    `value` is the value-aware objective's table (allocation.value); None: distance only.
    `forecast`: the last `forecast` leads are forecast arrivals, not customers (issue 16.2,
    allocation.forecast): the solver places them like any lead, and the places they take are
    the room the round keeps for the day's arrivals. 0: every lead is real.
    """

    tiers: tuple[str, ...]
    branches: BranchTable
    leads: LeadTable
    params: AllocationParams = field(default_factory=AllocationParams)
    pairs: PairTable | None = None
    value: LeadValues | None = None
    forecast: int = 0

    def __post_init__(self) -> None:
        if self.branches.serves.shape != (self.branches.size, len(self.tiers)):
            raise InvalidValueError("branch tier matrix does not match the tier list")
        if self.leads.size and not (
            int(self.leads.tier.min()) >= 0 and int(self.leads.tier.max()) < len(self.tiers)
        ):
            raise InvalidValueError("lead tier index out of range", field="tier")
        p = self.pairs
        if p is not None and len(p.lead):
            if int(p.lead.min()) < 0 or int(p.lead.max()) >= self.leads.size:
                raise UnknownReferenceError("pair names an unknown lead", field="external_id")
            if int(p.branch.min()) < 0 or int(p.branch.max()) >= self.branches.size:
                raise UnknownReferenceError("pair names an unknown branch", field="branch_code")
        self._check_value()
        if not 0 <= self.forecast <= self.leads.size:
            raise InvalidValueError("forecast leads out of range", field="forecast")
        if self.forecast and self.pairs is not None:
            raise InvalidValueError("forecast arrivals apply to location mode, not pairs")

    @property
    def real_leads(self) -> int:
        """How many leads are customers (the forecast arrivals come after them)."""
        return self.leads.size - self.forecast

    def _check_value(self) -> None:
        v = self.value
        if v is None:
            return
        if self.pairs is not None:
            raise InvalidValueError("value objectives apply to location mode, not pairs")
        if len(v.lead_class) != self.leads.size or v.value_km.shape != (
            len(v.class_tier),
            self.branches.size,
        ):
            raise InvalidValueError("value table does not match the leads and branches")
        if self.leads.size and not np.array_equal(v.class_tier[v.lead_class], self.leads.tier):
            raise InvalidValueError("value classes do not match the lead tiers", field="tier")

    @property
    def objective(self) -> str:
        return "distance" if self.value is None else self.value.mode

    @property
    def pair_mode(self) -> bool:
        return self.pairs is not None

    def eligible_matrix(self) -> BoolArray:
        """(tiers, branches): active branches that serve each tier."""
        return np.asarray(self.branches.serves.T & self.branches.active[None, :])


def build_problem(
    *,
    branches: Sequence[BranchSpec],
    leads: Sequence[LeadSpec],
    pairs: Sequence[PairSpec] | None = None,
    params: AllocationParams | None = None,
    objective: ObjectiveSpec | None = None,
    forecast: Sequence[LeadSpec] = (),
) -> AllocationProblem:
    """Specs -> validated columnar problem (tier list = built-ins plus any other name seen).

    `forecast`: expected arrivals, placed after the leads (their external ids must differ)."""
    if forecast:
        leads = [*leads, *forecast]
    extra = {t for b in branches for t in b.tiers} | {lead.tier for lead in leads}
    tiers = BUILT_IN_TIERS + tuple(sorted(extra - set(BUILT_IN_TIERS)))
    tier_index = {t: k for k, t in enumerate(tiers)}
    table = branch_table(branches=branches, tiers=tiers)
    lead_table = LeadTable(
        external_ids=[lead.external_id for lead in leads],
        lat=np.array([math.nan if x.lat is None else x.lat for x in leads], np.float64),
        lon=np.array([math.nan if x.lon is None else x.lon for x in leads], np.float64),
        tier=np.array([tier_index[x.tier] for x in leads], np.int64),
        region_codes=[x.region_code for x in leads],
    )
    pair_table = None
    if pairs is not None:
        pair_table = pair_table_from_specs(
            pairs=pairs, lead_ids=lead_table.external_ids, branch_index=table.index()
        )
    value = lead_values(
        spec=objective or ObjectiveSpec(),
        tiers=tiers,
        branch_codes=table.codes,
        lead_tier=lead_table.tier,
        lead_channel=[x.channel for x in leads],
    )
    return AllocationProblem(
        tiers=tiers,
        branches=table,
        leads=lead_table,
        params=params or AllocationParams(),
        pairs=pair_table,
        value=value,
        forecast=len(forecast),
    )


def branch_table(*, branches: Sequence[BranchSpec], tiers: tuple[str, ...]) -> BranchTable:
    serves = np.array(
        [[not b.tiers or t in b.tiers for t in tiers] for b in branches], np.bool_
    ).reshape(len(branches), len(tiers))
    return BranchTable(
        codes=tuple(b.code for b in branches),
        names=tuple(b.name for b in branches),
        lat=np.array([b.lat for b in branches], np.float64),
        lon=np.array([b.lon for b in branches], np.float64),
        capacity=np.array([b.capacity for b in branches], np.int64),
        serves=serves,
        active=np.array([b.active for b in branches], np.bool_),
        region_codes=tuple(b.region_code for b in branches),
    )


def pair_table_from_specs(
    *, pairs: Sequence[PairSpec], lead_ids: Sequence[str], branch_index: dict[str, int]
) -> PairTable:
    """Resolve pair keys to indices and sort by (lead, branch)."""
    lead_index = {key: i for i, key in enumerate(lead_ids)}
    rows = []
    for k, p in enumerate(pairs):
        if p.external_id not in lead_index:
            raise UnknownReferenceError(
                f"pair {k}: unknown lead {p.external_id!r}", record=k, field="external_id"
            )
        if p.branch_code not in branch_index:
            raise UnknownReferenceError(
                f"pair {k}: unknown branch {p.branch_code!r}", record=k, field="branch_code"
            )
        rows.append((lead_index[p.external_id], branch_index[p.branch_code], p.cost, p.workload))
    return pair_table_from_columns(
        lead=np.array([r[0] for r in rows], np.int64),
        branch=np.array([r[1] for r in rows], np.int64),
        cost=np.array([r[2] for r in rows], np.float64),
        workload=np.array([r[3] for r in rows], np.int64),
    )


def pair_table_from_columns(
    *, lead: IntArray, branch: IntArray, cost: FloatArray, workload: IntArray
) -> PairTable:
    order = np.lexsort((branch, lead))
    return PairTable(
        lead=lead[order], branch=branch[order], cost=cost[order], workload=workload[order]
    )

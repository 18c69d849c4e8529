"""`o2o allocate` files (contract §5.1): BRANCHES/LEADS/PAIRS CSV in, ASSIGNMENTS.csv + REPORT.json
out. Reading validates every cell and stops at the first bad one with file, line and column;
writing goes to temporary files renamed into place only when everything is ready.
"""

from __future__ import annotations

import csv
import json
import os
import tempfile
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import IO, Any

import numpy as np

from allocation.errors import InputFileError, InvalidProblemError
from allocation.model import (
    BRANCH_CODE,
    BUILT_IN_TIERS,
    DEFAULT_TIER,
    REASONS,
    AllocationParams,
    AllocationProblem,
    BranchTable,
    LeadTable,
    PairTable,
    pair_table_from_columns,
)
from allocation.plan import Plan
from allocation.report import explanations
from allocation.value import LeadValues, ObjectiveSpec, lead_values
from allocation_files.rates_file import read_rates
from allocation_files.reading import (
    Columns,
    check_each,
    first_duplicate,
    integers,
    is_region_code,
    numbers,
    read_columns,
)
from spreadsheet_cells import escape_cell

Resolver = Callable[[str | None, str | None], tuple[float, float, str | None] | None]
ASSIGNMENT_COLUMNS = ("external_id", "branch_code", "distance_km", "cost", "reason", "explanation")


def load_problem(
    *,
    branches: Path,
    leads: Path,
    pairs: Path | None,
    params: AllocationParams,
    resolver: Resolver | None = None,
    on_step: Callable[[str], None] | None = None,
    objective: ObjectiveSpec | None = None,
    rates: Path | None = None,
) -> AllocationProblem:
    """Read and validate the three files into one problem (InputFileError on bad input).

    `on_step` hears "read ..." once the text is in columns and "built ..." once every cell is
    checked and converted (the two phases of the scale benchmark).
    """
    step = on_step or (lambda _message: None)
    b_cols = read_columns(
        branches,
        required=("code", "name", "lat", "lon", "capacity"),
        optional=("tiers", "region_code", "active"),
    )
    l_cols = read_columns(
        leads,
        required=("external_id",),
        optional=("lat", "lon", "region_code", "mobile", "tier", "channel"),
    )
    p_cols = None
    if pairs is not None:
        p_cols = read_columns(
            pairs, required=("external_id", "branch_code", "cost", "workload"), optional=()
        )
    step(f"read {len(l_cols)} leads, {len(b_cols)} branches")
    _check_tiers(b_cols, l_cols)
    lead_tiers = _lead_tiers(l_cols)
    tiers = _tier_list(b_cols, lead_tiers)
    table = _branch_table(b_cols, tiers=tiers)
    lead_table = _lead_table(l_cols, tiers=tiers, lead_tiers=lead_tiers, resolver=resolver)
    pair_table = None if p_cols is None else _pair_table(p_cols, leads=lead_table, branches=table)
    value = _values(
        objective=objective, rates=rates, tiers=tiers, branches=table, leads=lead_table, cols=l_cols
    )
    try:
        problem = AllocationProblem(
            tiers=tiers,
            branches=table,
            leads=lead_table,
            params=params,
            pairs=pair_table,
            value=value,
        )
    except InvalidProblemError as exc:
        raise InputFileError(
            file=leads.name, line=None, column=exc.field, message=str(exc)
        ) from exc
    step("built the problem")
    return problem


def _values(
    *,
    objective: ObjectiveSpec | None,
    rates: Path | None,
    tiers: tuple[str, ...],
    branches: BranchTable,
    leads: LeadTable,
    cols: Columns,
) -> LeadValues | None:
    """The objective's value table; a rule it breaks names the rates file's line and column."""
    spec = objective or ObjectiveSpec()
    rate_cols = None
    if rates is not None:
        rows, rate_cols = read_rates(rates)
        spec = ObjectiveSpec(
            mode=spec.mode,
            tier_weights_km=spec.tier_weights_km,
            price_per_km_fen=spec.price_per_km_fen,
            rates=rows,
        )
    try:
        return lead_values(
            spec=spec,
            tiers=tiers,
            branch_codes=branches.codes,
            lead_tier=leads.tier,
            lead_channel=[c.strip() for c in cols.get("channel") or [""] * len(cols)],
        )
    except InvalidProblemError as exc:
        if rate_cols is not None and exc.record is not None:
            raise rate_cols.error(row=exc.record, column=exc.field, message=str(exc)) from exc
        raise


def _branch_table(cols: Columns, *, tiers: tuple[str, ...]) -> BranchTable:
    codes = cols.required("code")
    check_each(
        cols,
        "code",
        lambda c: BRANCH_CODE.fullmatch(c) is not None,
        "branch codes are 1-32 of A-Z a-z 0-9 _ -",
    )
    for k, code in enumerate(codes):
        if not code:
            raise cols.error(row=k, column="code", message="value required")
    dup = first_duplicate(codes)
    if dup is not None:
        raise cols.error(row=dup, column="code", message=f"duplicate code {codes[dup]!r}")
    lat, lon = _points(cols, allow_empty=False)
    check_each(cols, "region_code", is_region_code, "region_code must be a 6-digit division code")
    actives = cols.get("active") or ["" for _ in codes]
    check_each(
        cols,
        "active",
        lambda c: c.strip().lower() in ("true", "false"),
        "active must be true or false",
    )
    served = [_served(cell, tiers) for cell in cols.get("tiers") or ["" for _ in codes]]
    return BranchTable(
        codes=tuple(codes),
        names=tuple(cols.required("name")),
        lat=lat,
        lon=lon,
        capacity=integers(cols, "capacity", minimum=0),
        serves=np.array(served, np.bool_).reshape(len(codes), len(tiers)),
        active=np.array([c.strip().lower() != "false" for c in actives], np.bool_),
        region_codes=tuple(_region(c) for c in cols.get("region_code") or ["" for _ in codes]),
    )


def _served(cell: str, tiers: tuple[str, ...]) -> list[bool]:
    names = {t.strip() for t in cell.split("|") if t.strip()}
    return [not names or t in names for t in tiers]


def _known_tier(name: str) -> bool:
    """Tier names are exactly the built-in ones: `vip` or `Mass` would silently change who
    may go where, so they are errors, not new tiers (issue 12)."""
    return name.strip() in BUILT_IN_TIERS


def _check_tiers(b_cols: Columns, l_cols: Columns) -> None:
    known = ", ".join(BUILT_IN_TIERS)
    check_each(l_cols, "tier", lambda c: not c.strip() or _known_tier(c), f"tier must be {known}")
    check_each(
        b_cols,
        "tiers",
        lambda c: all(_known_tier(t) for t in c.split("|") if t.strip()),
        f"tiers lists |-separated names among {known}",
    )


def _lead_tiers(cols: Columns) -> list[str]:
    raw = cols.get("tier") or []
    return [t.strip() or DEFAULT_TIER for t in raw] or [DEFAULT_TIER] * len(cols)


def _tier_list(b_cols: Columns, lead_tiers: Sequence[str]) -> tuple[str, ...]:
    named = {t.strip() for cell in b_cols.get("tiers") or [] for t in cell.split("|")}
    extra = (named | set(lead_tiers)) - set(BUILT_IN_TIERS) - {""}
    return BUILT_IN_TIERS + tuple(sorted(extra))


def _points(cols: Columns, *, allow_empty: bool) -> tuple[np.ndarray, np.ndarray]:
    lat = numbers(cols, "lat", allow_empty=allow_empty)
    lon = numbers(cols, "lon", allow_empty=allow_empty)
    for name, values, bound in (("lat", lat, 90.0), ("lon", lon, 180.0)):
        bad = np.abs(values) > bound
        if np.any(bad):
            k = int(np.flatnonzero(bad)[0])
            raise cols.error(row=k, column=name, message=f"outside [-{bound:g}, {bound:g}]")
    half = np.isnan(lat) != np.isnan(lon)
    if np.any(half):
        k = int(np.flatnonzero(half)[0])
        column = "lon" if np.isnan(lon[k]) else "lat"
        raise cols.error(row=k, column=column, message="lat and lon must be given together")
    return lat, lon


def _lead_table(
    cols: Columns, *, tiers: tuple[str, ...], lead_tiers: list[str], resolver: Resolver | None
) -> LeadTable:
    ids = cols.required("external_id")
    blank = next((k for k, key in enumerate(ids) if not key or key.isspace()), None)
    if blank is not None:
        raise cols.error(row=blank, column="external_id", message="value required")
    dup = first_duplicate(ids)
    if dup is not None:
        raise cols.error(row=dup, column="external_id", message=f"duplicate {ids[dup]!r}")
    lat, lon = _points(cols, allow_empty=True)
    check_each(cols, "region_code", is_region_code, "region_code must be a 6-digit division code")
    regions = [_region(c) for c in cols.get("region_code") or [""] * len(ids)]
    if resolver is not None:
        _resolve_missing(cols, lat=lat, lon=lon, regions=regions, resolver=resolver)
    index = {t: k for k, t in enumerate(tiers)}
    return LeadTable(
        external_ids=ids,
        lat=lat,
        lon=lon,
        tier=np.array([index[t] for t in lead_tiers], np.int64),
        region_codes=regions,
    )


def _region(cell: str) -> str | None:
    return cell.strip()[:6] or None


def _resolve_missing(
    cols: Columns,
    *,
    lat: np.ndarray,
    lon: np.ndarray,
    regions: list[str | None],
    resolver: Resolver,
) -> None:
    """Leads without coordinates: division centroid from region_code, else mobile prefix."""
    mobiles = cols.get("mobile") or [""] * len(regions)
    cache: dict[tuple[str | None, str], tuple[float, float, str | None] | None] = {}
    for k in np.flatnonzero(np.isnan(lat)).tolist():
        key = (regions[k], mobiles[k].strip())
        if not key[0] and not key[1]:
            continue
        if key not in cache:
            cache[key] = resolver(key[0], key[1] or None)
        found = cache[key]
        if found is not None:
            lat[k], lon[k] = found[0], found[1]
            regions[k] = regions[k] or found[2]


def _pair_table(cols: Columns, *, leads: LeadTable, branches: BranchTable) -> PairTable:
    lead_index = {key: i for i, key in enumerate(leads.external_ids)}
    branch_index = branches.index()
    lead = _lookup(cols, "external_id", lead_index, what="lead")
    branch = _lookup(cols, "branch_code", branch_index, what="branch")
    cost = numbers(cols, "cost", allow_empty=False)
    if np.any(cost < 0):
        k = int(np.flatnonzero(cost < 0)[0])
        raise cols.error(row=k, column="cost", message="cost must be >= 0")
    workload = integers(cols, "workload", minimum=1)
    key = lead * len(branch_index) + branch
    order = np.argsort(key, kind="stable")
    repeated = np.flatnonzero(key[order][1:] == key[order][:-1])
    if len(repeated):
        k = int(order[repeated[0] + 1])
        raise cols.error(row=k, column="branch_code", message="this pair is listed twice")
    return pair_table_from_columns(lead=lead, branch=branch, cost=cost, workload=workload)


def _lookup(cols: Columns, name: str, index: dict[str, int], *, what: str) -> np.ndarray:
    raw = cols.required(name)
    out = np.empty(len(raw), np.int64)
    for k, key in enumerate(raw):
        found = index.get(key)
        if found is None:
            raise cols.error(row=k, column=name, message=f"unknown {what} {key!r}")
        out[k] = found
    return out


def write_outputs(
    *,
    problem: AllocationProblem,
    plan: Plan,
    out: Path,
    report_path: Path | None,
    report: dict[str, Any],
) -> None:
    """Write ASSIGNMENTS.csv (and REPORT.json) to temporary files, then rename both."""
    staged: list[tuple[Path, Path]] = []
    try:
        staged.append((_staged(out, lambda f: _write_assignments(f, problem, plan)), out))
        if report_path is not None:
            staged.append((_staged(report_path, lambda f: _write_json(f, report)), report_path))
        for temp, final in staged:
            os.replace(temp, final)
    finally:
        for temp, _ in staged:
            if temp.exists():
                temp.unlink()


def _staged(final: Path, write: Callable[[IO[str]], None]) -> Path:
    """Write to a temporary file next to `final` (same filesystem, so the rename is atomic)."""
    fd, name = tempfile.mkstemp(dir=final.parent, prefix=f".{final.name}.", suffix=".tmp")
    try:
        with open(fd, "w", encoding="utf-8", newline="") as handle:
            write(handle)
    except BaseException:
        Path(name).unlink(missing_ok=True)
        raise
    return Path(name)


def _write_assignments(handle: IO[str], problem: AllocationProblem, plan: Plan) -> None:
    rows = assignment_rows(problem=problem, plan=plan)
    if _needs_quotes(problem.leads.external_ids):
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(ASSIGNMENT_COLUMNS)
        writer.writerows(rows)
        return
    # Fast path: no field needs quoting (codes, numbers, reasons and notes never do).
    handle.write(",".join(ASSIGNMENT_COLUMNS) + "\n")
    handle.writelines(",".join(row) + "\n" for row in rows)


def _needs_quotes(values: Sequence[str]) -> bool:
    """Would the csv module quote any of these (delimiter, quote or line break inside)?"""
    text = "\x00".join(values)
    return any(c in text for c in ',"\r\n')


def assignment_rows(*, problem: AllocationProblem, plan: Plan) -> Iterable[Sequence[str]]:
    codes = [*problem.branches.codes, ""]
    branch = plan.branch.tolist()
    distance = _formatted(plan.distance_km, "{:.3f}")
    cost = _formatted(plan.cost, "{:.6f}" if problem.pairs is not None else "{:.3f}")
    labels = ("", *(r.value for r in REASONS))
    reason = [labels[k] for k in plan.reason.tolist()]
    notes = explanations(problem=problem, plan=plan)
    # Ids and codes come from the input files: a spreadsheet must not run them as formulas.
    codes = [escape_cell(code) for code in codes]
    return zip(
        (escape_cell(external_id) for external_id in problem.leads.external_ids),
        (codes[j] for j in branch),
        distance,
        cost,
        reason,
        (escape_cell(n) if r == "" else "" for n, r in zip(notes, reason, strict=True)),
        strict=True,
    )


def _formatted(values: np.ndarray, spec: str) -> list[str]:
    fmt = spec.format
    return ["" if v != v else fmt(v) for v in values.tolist()]


def _write_json(handle: IO[str], report: dict[str, Any]) -> None:
    json.dump(report, handle, ensure_ascii=False, indent=2)
    handle.write("\n")

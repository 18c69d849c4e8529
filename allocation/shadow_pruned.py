"""The shadow prices' graph (allocation.shadow_graph) from a few leads per pair of branches.

The dense pass prices every lead at every branch (1.3M x 300 haversines) to keep, per source
row r and branch j, the cheapest move and the leads within TIE_KM of it. Most leads cannot come
near that cheapest move, and a bound shows which: leads are put in cells (source row, tier,
value class, a grid square of CELL_DEG), and for a lead i at distance s_i from its cell's
centre C the triangle inequality gives

    d(C, j) - s_i  <=  d(i, j)  <=  d(C, j) + s_i

so the move's cost c_ij - own_i is at least d(C, j) - value - (s_i + own_i) and, for one lead
of the row, at most d(C, j) - value + (s_i - own_i). Only leads whose lower bound is within
reach of the row's upper bound are priced, exactly as the dense pass prices them
(`haversine_pairs_km`: the same operations, so the same bits).

Which costs count as ties depends on the blocks the dense pass summarises and merges in order
(`Leads`): a block's cheapest cost is kept if it is within TIE_KM of the running one. A block
whose cheapest cost m_t is above the row's m + W, W = TIE_KM x (blocks + 4), changes nothing
of the end result: it can only act while the running cost is above m + W - TIE_KM, each block
moves the running cost down by at most TIE_KM without replacing it, and the block holding m
replaces whatever is above m + TIE_KM. So the leads that matter are those within m + W +
TIE_KM, all of which the bound keeps, and the fold over the remaining blocks gives the dense
pass's figures bit for bit (tests/allocation/test_shadow_pruned.py compares the two).
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from allocation.geo import haversine_km_np, haversine_matrix_km, haversine_pairs_km
from allocation.model import AllocationProblem
from allocation.plan import Plan
from allocation.shadow_graph import (
    THREADS,
    TIE_KM,
    Graph,
    Leads,
    costs,
    dense_graph,
    finished,
    merge,
    own_costs,
)

IntArray = NDArray[np.int64]
FloatArray = NDArray[np.float64]
BoolArray = NDArray[np.bool_]
CELL_DEG = 0.1  # ~11 km: 42k cells at 1.3M leads (bench), 9M of 273M moves priced
# Rounding in the bounds (haversines and sums of km, off by far less than a millimetre even in
# the one float key of `_reaching`) is covered by widening every comparison by a metre.
MARGIN_KM = 1e-3
PAIRS_PER_BLOCK = 1_000_000  # cell-branch pairs or moves per pass: ~8 MB per temporary array


@dataclass(frozen=True)
class _Cells:
    """Leads in cells: members[start[g]:start[g + 1]] (positions in `Leads`) are cell g's,
    by reach = s + own, highest first."""

    members: IntArray
    start: IntArray
    reach: FloatArray  # s_i + own_i, in members order
    row: IntArray
    tier: IntArray
    value_class: IntArray
    lat: FloatArray
    lon: FloatArray


def pruned_graph(problem: AllocationProblem, plan: Plan, leads: Leads) -> Graph:
    lat, lon = problem.leads.lat[leads.idx], problem.leads.lon[leads.idx]
    b = problem.branches.size
    if not (len(lat) and b and np.isfinite(lat).all() and np.isfinite(lon).all()):
        # Nothing to price, or a lead without a point, which nothing bounds.
        return dense_graph(problem, plan, leads)
    own = np.where(leads.src < b, own_costs(problem=problem, plan=plan)[leads.idx], 0.0)
    cells = _cells(problem, leads, own=own)
    pos, j = _candidates(problem, leads, cells, own)
    spans = [slice(lo, lo + PAIRS_PER_BLOCK) for lo in range(0, len(pos), PAIRS_PER_BLOCK)]
    with ThreadPoolExecutor(max_workers=THREADS) as pool:
        parts = pool.map(lambda at: _moves(problem, leads, pos=pos[at], j=j[at], own=own), spans)
        delta = np.concatenate([np.zeros(0), *parts])
    return _summary(b, leads, pos=pos, j=j, delta=delta)


def _cells(problem: AllocationProblem, leads: Leads, *, own: FloatArray) -> _Cells:
    ld = problem.leads
    lat, lon, tier = ld.lat[leads.idx], ld.lon[leads.idx], ld.tier[leads.idx]
    value_class = _value_class(problem, leads.idx)
    grid_row = np.floor((lat + 90.0) / CELL_DEG).astype(np.int64)
    grid_col = np.floor((lon + 180.0) / CELL_DEG).astype(np.int64)
    order = np.lexsort((grid_col, grid_row, value_class, tier, leads.src))
    keys = np.stack([leads.src, tier, value_class, grid_row, grid_col])[:, order]
    first = np.r_[True, (keys[:, 1:] != keys[:, :-1]).any(axis=0)]
    heads = np.flatnonzero(first)
    counts = np.diff(np.r_[heads, len(order)])
    cell = np.repeat(np.arange(len(heads)), counts)
    centre_lat = np.add.reduceat(lat[order], heads) / counts if len(heads) else np.zeros(0)
    centre_lon = np.add.reduceat(lon[order], heads) / counts if len(heads) else np.zeros(0)
    spread = haversine_km_np(lat[order], lon[order], centre_lat[cell], centre_lon[cell])
    reach = spread + own[order]
    by_reach = np.lexsort((-reach, cell))  # within each cell, the highest reach first
    members, reach = order[by_reach], reach[by_reach]
    return _Cells(
        members=members,
        start=np.r_[heads, len(order)].astype(np.int64),
        reach=reach,
        row=leads.src[order[heads]],
        tier=tier[order[heads]],
        value_class=value_class[order[heads]],
        lat=centre_lat,
        lon=centre_lon,
    )


def _value_class(problem: AllocationProblem, idx: IntArray) -> IntArray:
    if problem.value is None:
        return np.zeros(len(idx), np.int64)
    return np.asarray(problem.value.lead_class[idx], np.int64)


def _candidates(
    problem: AllocationProblem, leads: Leads, cells: _Cells, own: FloatArray
) -> tuple[IntArray, IntArray]:
    """(position in `Leads`, branch) of every move whose lower bound comes within reach of its
    row's upper bound; every other move costs more than the row's cheapest + W + TIE_KM.
    Cells go in blocks of PAIRS_PER_BLOCK cell-branch pairs (temporaries that stay in cache),
    on THREADS threads, twice: the rows' upper bounds first, then the moves within reach."""
    b, g = problem.branches.size, len(cells.row)
    if not g or not b:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    step = max(1, PAIRS_PER_BLOCK // b)
    spans = [(lo, min(lo + step, g)) for lo in range(0, g, step)]
    row_upper = np.full((b + 1, b), np.inf)
    with ThreadPoolExecutor(max_workers=THREADS) as pool:
        uppers = pool.map(lambda span: _upper(problem, leads, cells, span, own), spans)
        for rows, upper in uppers:
            row_upper[rows] = np.minimum(row_upper[rows], upper)
        slack = TIE_KM * (leads.blocks + 4) + 2 * TIE_KM + 2 * MARGIN_KM
        found = list(pool.map(lambda span: _within(problem, cells, span, row_upper, slack), spans))
    cell = np.concatenate([c for c, _, _ in found])
    j = np.concatenate([x for _, x, _ in found])
    count = _reaching(cells, cell=cell, least=np.concatenate([x for _, _, x in found]))
    # The first `count` members of each cell, in place: a few million moves at scale.
    at = np.repeat(cells.start[cell] - (np.cumsum(count) - count), count)
    at += np.arange(len(at))
    return cells.members[at], np.repeat(j, count)


def _bounds(
    problem: AllocationProblem, cells: _Cells, span: tuple[int, int]
) -> tuple[FloatArray, BoolArray]:
    """For cells lo..hi and every branch: the distance from the cell's centre less the value
    of the cell's class there, and whether the cell's leads may move there."""
    lo, hi = span
    br = problem.branches
    near = haversine_matrix_km(cells.lat[lo:hi], cells.lon[lo:hi], br.lat, br.lon)
    if problem.value is not None:
        near -= problem.value.value_km[cells.value_class[lo:hi]]
    eligible = problem.eligible_matrix()[cells.tier[lo:hi]]
    row = cells.row[lo:hi]
    placed = np.flatnonzero(row < br.size)
    eligible[placed, row[placed]] = False  # a lead's own branch is no move
    return near, eligible


def _upper(
    problem: AllocationProblem,
    leads: Leads,
    cells: _Cells,
    span: tuple[int, int],
    own: FloatArray,
) -> tuple[IntArray, FloatArray]:
    """(rows, per row and branch: the cheapest move of the farthest reaching lead of each of
    cells lo..hi). Real moves, priced as the dense pass prices them: no row's cheapest move
    costs more."""
    lo, hi = span
    first = cells.members[cells.start[lo:hi]]
    move = costs(problem=problem, leads=leads.idx[first])
    row = cells.row[lo:hi]
    placed = np.flatnonzero(row < problem.branches.size)
    move[placed] -= own[first[placed], None]
    move[placed, row[placed]] = np.inf
    heads = np.flatnonzero(np.r_[True, row[1:] != row[:-1]])
    return row[heads], np.minimum.reduceat(move, heads, axis=0)


def _within(
    problem: AllocationProblem,
    cells: _Cells,
    span: tuple[int, int],
    row_upper: FloatArray,
    slack: float,
) -> tuple[IntArray, IntArray, FloatArray]:
    """(cell, branch, least reach) of the cell-branch pairs of cells lo..hi whose farthest
    reaching lead is within reach: a lead's move is kept when near - reach <= upper + slack."""
    near, eligible = _bounds(problem, cells, span)
    lo, hi = span
    least = near - row_upper[cells.row[lo:hi]] - slack
    first_reach = cells.reach[cells.start[lo:hi]]
    cell, j = np.nonzero(eligible & (least <= first_reach[:, None]))
    return cell + lo, j, least[cell, j]


def _reaching(cells: _Cells, *, cell: IntArray, least: FloatArray) -> IntArray:
    """Per (cell, least): how many of the cell's members reach at least `least` (a prefix, as
    members go by reach, highest first). One sorted key for all cells: cell x span + (top -
    reach), each cell in its own span."""
    top = float(cells.reach.max(initial=0.0))
    span = 2.0 * (top - float(cells.reach.min(initial=0.0))) + 4.0 * MARGIN_KM + 2.0
    base = np.repeat(np.arange(len(cells.row), dtype=np.float64) * span, np.diff(cells.start))
    key = base + (top - cells.reach)
    below = np.clip(top - least + MARGIN_KM, 0.0, span / 2.0)
    found = np.searchsorted(key, cell * span + below, side="right")
    count: IntArray = np.maximum(found - cells.start[cell], 0).astype(np.int64)
    return count


def _moves(
    problem: AllocationProblem, leads: Leads, *, pos: IntArray, j: IntArray, own: FloatArray
) -> FloatArray:
    """The cost of each candidate move, as `shadow_graph._costs` and `_summarise` work it out."""
    ld, br = problem.leads, problem.branches
    i = leads.idx[pos]
    cost = haversine_pairs_km(ld.lat[i], ld.lon[i], br.lat[j], br.lon[j])
    ok = problem.eligible_matrix()[ld.tier[i], j]
    limit = problem.params.max_distance_km
    if limit is not None:
        ok &= cost <= limit
    if problem.value is not None:
        np.subtract(cost, problem.value.value_km[problem.value.lead_class[i], j], out=cost)
    cost[~ok] = np.inf
    np.subtract(cost, own[pos], out=cost, where=leads.src[pos] < br.size)
    return cost


def _summary(b: int, leads: Leads, *, pos: IntArray, j: IntArray, delta: FloatArray) -> Graph:
    """Per (row, branch): the dense pass's block summaries of the blocks that matter, folded in
    block order."""
    pair = leads.src[pos] * b + j
    cheapest = np.full((b + 1) * b, np.inf)
    if len(pair):  # candidates come in runs of one (cell, branch): one ufunc.at per run
        runs = np.flatnonzero(np.r_[True, pair[1:] != pair[:-1]])
        np.minimum.at(cheapest, pair[runs], np.minimum.reduceat(delta, runs))
    within = TIE_KM * (leads.blocks + 4)
    keep = delta <= cheapest[pair] + (within + 2 * TIE_KM)
    pos, pair, delta = pos[keep], pair[keep], delta[keep]
    key = pair * leads.blocks + pos // leads.step
    order = np.argsort(key, kind="stable")
    pos, pair, delta, key = pos[order], pair[order], delta[order], key[order]
    heads = np.flatnonzero(np.r_[True, key[1:] != key[:-1]]) if len(key) else np.zeros(0, int)
    best = np.full((b + 1) * b, np.inf)
    ties = np.zeros((b + 1) * b, np.int64)
    if len(heads):
        low = np.minimum.reduceat(delta, heads)
        run = np.repeat(np.arange(len(heads)), np.diff(np.r_[heads, len(key)]))
        tied = np.where(delta <= (low + TIE_KM)[run], leads.weight[pos], 0)
        count = np.add.reduceat(tied, heads).astype(np.int64)
        at = pair[heads]
        matters = low <= cheapest[at] + within
        at, low, count = at[matters], low[matters], count[matters]
        first = np.r_[True, at[1:] != at[:-1]]
        ordinal = np.arange(len(at)) - np.maximum.accumulate(np.where(first, np.arange(len(at)), 0))
        for t in range(int(ordinal.max(initial=-1)) + 1):
            now = ordinal == t
            merge(best, ties, at[now], low[now], count[now])
    return finished(best.reshape(b + 1, b), ties.reshape(b + 1, b))

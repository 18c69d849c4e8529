"""Pricing passes over all leads x branches without touching most of the pairs.

`best_branch` answers, for every lead, min over eligible branches j of (distance_ij + offset_j)
(and which j), capped by `cap` (the price of leaving the lead unassigned). Per group it first
bounds every branch with the group's centre and radius; only branches whose lower bound beats
the best upper bound are evaluated for each member. With offset = branch prices this is the
pricing step of the flow solver and yields the Lagrangian lower bound; with offset = 0 it finds
each lead's nearest eligible branch. A value-aware objective adds a cost per (class, branch)
(`Geometry.class_cost`, shared by every member of a group) to the distance.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from allocation.geo import matrix_metres, paired_metres
from allocation.solvers.groups import Groups

IntArray = NDArray[np.int64]
FloatArray = NDArray[np.float64]
BoolArray = NDArray[np.bool_]
BOUND_TOLERANCE_M = 1.0  # bound tests admit 1 m extra: the centre-distance matrix is ~0.1 m exact
PAIRS_PER_CHUNK = 1_000_000  # bounds each thread's temporary (lead, branch) arrays to ~50 MB
PRICING_THREADS = 2  # the reference machine has two cores


@dataclass(frozen=True)
class Geometry:
    """Unit vectors of leads and branches, eligibility per class (a tier, or a tier and channel
    under a value objective), the distance limit (m), and the class cost (m) added to distance."""

    leads: FloatArray
    branches: FloatArray
    eligible: BoolArray  # (classes, branches)
    limit_m: float  # inf when max_distance_km is not set
    class_cost: FloatArray | None = None  # (classes, branches), >= 0; None: distance only

    def extra(self, cls: IntArray, j: IntArray) -> FloatArray | float:
        """Class cost of (class, branch) pairs; 0.0 in distance mode."""
        return 0.0 if self.class_cost is None else self.class_cost[cls, j]

    def extra_rows(self, cls: IntArray) -> FloatArray | float:
        """Class cost rows (classes x every branch); 0.0 in distance mode."""
        return 0.0 if self.class_cost is None else self.class_cost[cls]


@dataclass(frozen=True)
class Best:
    """Per lead (indexed like the unit vectors): best value and branch (-1: the cap won).

    (cand_g, cand_j) lists, per group, every branch that may be some member's best.
    """

    value: FloatArray
    branch: IntArray
    cand_g: IntArray
    cand_j: IntArray


def best_branch(
    *, geo: Geometry, groups: Groups, offset: FloatArray, cap: float, slack: float = 0.0
) -> Best:
    """Per-lead min/argmin of distance + offset; candidates within `slack` of a group's best.

    Chunks of groups are independent (each writes only its own members), so they run on
    PRICING_THREADS threads: numpy releases the GIL in the heavy array operations. The result
    does not depend on the scheduling.
    """
    value = np.full(len(geo.leads), cap, np.float64)
    branch = np.full(len(geo.leads), -1, np.int64)

    def price(chunk: tuple[int, int]) -> tuple[IntArray, IntArray]:
        lo, hi = chunk
        cands = _candidates(geo=geo, groups=groups, lo=lo, hi=hi, offset=offset, cap=cap, slack=0.0)
        _evaluate(
            geo=geo,
            groups=groups,
            cands=cands,
            offset=offset,
            cap=cap,
            out_value=value,
            out_branch=branch,
        )
        if slack > 0:
            cands = _candidates(
                geo=geo, groups=groups, lo=lo, hi=hi, offset=offset, cap=cap, slack=slack
            )
        # Only branches every member may use can become arcs of the whole group.
        return cands.g[cands.whole], cands.j[cands.whole]

    chunks = _group_chunks(groups=groups, width=geo.branches.shape[0])
    with ThreadPoolExecutor(max_workers=PRICING_THREADS) as pool:
        found = list(pool.map(price, chunks))
    empty = np.zeros(0, np.int64)
    return Best(
        value=value,
        branch=branch,
        cand_g=np.concatenate([f[0] for f in found]) if found else empty,
        cand_j=np.concatenate([f[1] for f in found]) if found else empty,
    )


@dataclass(frozen=True)
class _Candidates:
    """(group, branch) pairs sorted by group then branch, with centre value dc + offset.

    `best` is each group's smallest centre value over branches every member may use.
    """

    g: IntArray
    j: IntArray
    key: FloatArray
    best: FloatArray  # indexed by group - lo
    lo: int
    whole: BoolArray  # every member may use the branch (within the distance limit)


def _group_chunks(*, groups: Groups, width: int) -> list[tuple[int, int]]:
    """Slices of groups whose centre x branch matrix stays within one chunk."""
    step = max(1, PAIRS_PER_CHUNK // max(1, width))
    return [(lo, min(lo + step, groups.size)) for lo in range(0, groups.size, step)]


def _candidates(
    *, geo: Geometry, groups: Groups, lo: int, hi: int, offset: FloatArray, cap: float, slack: float
) -> _Candidates:
    """Branches that may hold some member's best value: centre bound within 2 radii."""
    dc = matrix_metres(groups.centre[lo:hi], geo.branches)
    r = groups.radius[lo:hi, None]
    eligible = geo.eligible[groups.tier[lo:hi]]
    reach_all = eligible & (dc + r <= geo.limit_m)
    reach_some = eligible & (dc - r <= geo.limit_m)
    key = dc + geo.extra_rows(groups.tier[lo:hi]) + offset
    best = np.where(reach_all, key, np.inf).min(axis=1, initial=np.inf)
    upper = np.minimum(best + r[:, 0], cap)
    cand = reach_some & (key - r <= upper[:, None] + BOUND_TOLERANCE_M + slack)
    g, j = np.nonzero(cand)
    return _Candidates(
        g=g.astype(np.int64) + lo,
        j=j.astype(np.int64),
        key=key[g, j],
        best=best,
        lo=lo,
        whole=reach_all[g, j],
    )


def _evaluate(
    *,
    geo: Geometry,
    groups: Groups,
    cands: _Candidates,
    offset: FloatArray,
    cap: float,
    out_value: FloatArray,
    out_branch: IntArray,
) -> None:
    """Members x candidates of each group, member-major, then min/argmin per member."""
    if len(cands.g) == 0:
        return
    first = _run_starts(cands.g)
    gs = cands.g[first]
    k = np.diff(np.r_[first, len(cands.g)])
    one = k == 1
    _evaluate_single(
        geo=geo,
        groups=groups,
        gs=gs[one],
        j=cands.j[first[one]],
        offset=offset,
        out_value=out_value,
        out_branch=out_branch,
    )
    gs, first, k = gs[~one], first[~one], k[~one]
    for a, b in _blocks(sizes=groups.counts[gs] * k):
        _evaluate_block(
            geo=geo,
            groups=groups,
            gs=gs[a:b],
            first=first[a:b],
            k=k[a:b],
            cands=cands,
            offset=offset,
            cap=cap,
            out_value=out_value,
            out_branch=out_branch,
        )


def _evaluate_single(
    *,
    geo: Geometry,
    groups: Groups,
    gs: IntArray,
    j: IntArray,
    offset: FloatArray,
    out_value: FloatArray,
    out_branch: IntArray,
) -> None:
    """Groups with one candidate branch: one distance per member, no argmin needed."""
    n = groups.counts[gs]
    member = groups.members[_ranges(groups.start[gs], n)]
    jm = np.repeat(j, n)
    dist = paired_metres(geo.leads[member], geo.branches[jm])
    cost = dist + geo.extra(np.repeat(groups.tier[gs], n), jm)
    val = np.where(dist <= geo.limit_m, cost + offset[jm], np.inf)
    better = val < out_value[member]
    out_value[member] = np.where(better, val, out_value[member])
    out_branch[member] = np.where(better, jm, out_branch[member])


def _blocks(*, sizes: IntArray) -> list[tuple[int, int]]:
    """Consecutive index ranges whose sizes sum to about PAIRS_PER_CHUNK."""
    ends = np.cumsum(sizes)
    out, a = [], 0
    while a < len(sizes):
        base = ends[a - 1] if a else 0
        b = int(np.searchsorted(ends, base + PAIRS_PER_CHUNK, side="right"))
        b = max(b, a + 1)
        out.append((a, b))
        a = b
    return out


def _evaluate_block(
    *,
    geo: Geometry,
    groups: Groups,
    gs: IntArray,
    first: IntArray,
    k: IntArray,
    cands: _Candidates,
    offset: FloatArray,
    cap: float,
    out_value: FloatArray,
    out_branch: IntArray,
) -> None:
    """Members of groups `gs` against the candidates their own position leaves open."""
    n = groups.counts[gs]
    pos = _ranges(groups.start[gs], n)
    member = groups.members[pos]
    idx, owner = _member_pairs(
        groups=groups, gs=gs, first=first, k=k, cands=cands, cap=cap, pos=pos
    )
    j = cands.j[idx]
    dist = paired_metres(geo.leads[member[owner]], geo.branches[j])
    cost = dist + geo.extra(np.repeat(groups.tier[gs], n)[owner], j)
    val = np.where(dist <= geo.limit_m, cost + offset[j], np.inf)
    low = np.full(len(member), np.inf)
    np.minimum.at(low, owner, val)
    hit = (val == low[owner]) & np.isfinite(val)
    pick = np.full(len(member), len(offset), np.int64)
    np.minimum.at(pick, owner[hit], j[hit])  # ties: the lowest branch index
    better = low < out_value[member]
    out_value[member] = np.where(better, low, out_value[member])
    out_branch[member] = np.where(better, pick, out_branch[member])


def _member_pairs(
    *,
    groups: Groups,
    gs: IntArray,
    first: IntArray,
    k: IntArray,
    cands: _Candidates,
    cap: float,
    pos: IntArray,
) -> tuple[IntArray, IntArray]:
    """(candidate index, member number) pairs worth a distance.

    A member at distance s from its group centre has d_ij in [dc_j - s, dc_j + s], so branch
    j can beat the group's best centre branch only if dc_j + offset_j <= best + 2 s: with each
    group's candidates sorted by dc_j + offset_j, that is a prefix found by binary search.
    """
    n = groups.counts[gs]
    spread = groups.spread[pos]
    threshold = np.minimum(cap + spread, np.repeat(cands.best[gs - cands.lo], n) + 2 * spread)
    sorted_idx, begin = _sorted_by_key(cands=cands, first=first, k=k)
    lo = np.repeat(begin, n)
    end = _count_at_most(
        keys=cands.key[sorted_idx],
        lo=lo,
        hi=lo + np.repeat(k, n),
        value=threshold + BOUND_TOLERANCE_M,
    )
    idx = sorted_idx[_ranges(lo, end - lo)]
    return idx, np.repeat(np.arange(len(pos)), end - lo)


def _sorted_by_key(
    *, cands: _Candidates, first: IntArray, k: IntArray
) -> tuple[IntArray, IntArray]:
    """Candidate indices of the given groups, each group's run sorted by key; run starts."""
    idx = _ranges(first, k)
    owner = np.repeat(np.arange(len(k)), k)
    order = np.lexsort((cands.key[idx], owner))
    return idx[order], np.cumsum(k) - k


def _count_at_most(*, keys: FloatArray, lo: IntArray, hi: IntArray, value: FloatArray) -> IntArray:
    """Vectorised binary search: first position in each sorted run keys[lo:hi] above value."""
    lo, hi = lo.copy(), hi.copy()
    while True:
        active = lo < hi
        if not active.any():
            return lo
        mid = (lo + hi) // 2
        below = active & (keys[np.minimum(mid, len(keys) - 1)] <= value)
        lo = np.where(below, mid + 1, lo)
        hi = np.where(active & ~below, mid, hi)


def _run_starts(sorted_keys: IntArray) -> IntArray:
    """Index of the first element of each run of equal values in a sorted array."""
    return np.flatnonzero(np.r_[True, sorted_keys[1:] != sorted_keys[:-1]])


def _ranges(starts: IntArray, lengths: IntArray) -> IntArray:
    """Concatenation of arange(s, s + n) for each (s, n)."""
    total = int(lengths.sum())
    if total == 0:
        return np.zeros(0, np.int64)
    offsets = np.arange(total, dtype=np.int64) - np.repeat(np.cumsum(lengths) - lengths, lengths)
    return np.repeat(starts, lengths) + offsets


def arc_means(*, geo: Geometry, groups: Groups, arc_g: IntArray, arc_j: IntArray) -> FloatArray:
    """Mean member cost (m) of each (group, branch) arc: the exact cost of a whole group."""
    out = np.zeros(len(arc_g), np.float64)
    n = groups.counts[arc_g]
    for a, b in _blocks(sizes=n):
        lens = n[a:b]
        member = groups.members[_ranges(groups.start[arc_g[a:b]], lens)]
        dist = paired_metres(geo.leads[member], geo.branches[np.repeat(arc_j[a:b], lens)])
        out[a:b] = np.add.reduceat(dist, np.r_[0, np.cumsum(lens)[:-1]]) / lens
    return out + geo.extra(groups.tier[arc_g], arc_j)


def nearest_arcs(*, geo: Geometry, groups: Groups, k: int) -> tuple[IntArray, IntArray]:
    """The k nearest branches of each group centre that every member may use."""
    arc_g, arc_j = [], []
    for lo, hi in _group_chunks(groups=groups, width=geo.branches.shape[0]):
        dc = matrix_metres(groups.centre[lo:hi], geo.branches)
        ok = geo.eligible[groups.tier[lo:hi]] & (dc + groups.radius[lo:hi, None] <= geo.limit_m)
        dc = np.where(ok, dc + geo.extra_rows(groups.tier[lo:hi]), np.inf)
        kk = min(k, dc.shape[1])
        idx = np.argpartition(dc, kk - 1, axis=1)[:, :kk] if kk else np.zeros((hi - lo, 0), int)
        rows = np.repeat(np.arange(lo, hi), kk)
        cols = idx.ravel()
        keep = np.isfinite(dc[rows - lo, cols])
        arc_g.append(rows[keep])
        arc_j.append(cols[keep])
    g = np.concatenate(arc_g).astype(np.int64) if arc_g else np.zeros(0, np.int64)
    j = np.concatenate(arc_j).astype(np.int64) if arc_j else np.zeros(0, np.int64)
    order = np.lexsort((j, g))
    return g[order], j[order]

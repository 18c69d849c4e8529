"""Most leads assigned, whatever the clock did (contract §5 objective (1), issue 12 item 6).

A restricted flow stopped by the time limit may leave a lead out although a chain of moves
(lead -> full branch j0, one of j0's leads -> j1, ..., -> a branch with room) would place it.
For unit workloads this is bipartite b-matching: a plan is maximum iff no free lead has such an
augmenting path, and a lead without one never gains one later, so one pass over the free leads
reaches the maximum. The search runs on the branch graph j -> k ("some lead at j may go to
k"), kept as counts, so each path costs O(branches^2), not O(pairs).
"""

from __future__ import annotations

import itertools
import math
from collections import deque

import numpy as np
from numpy.typing import NDArray

from allocation.geo import EARTH_RADIUS_KM, haversine_km_np, unit_vectors
from allocation.model import AllocationProblem

IntArray = NDArray[np.int64]
BoolArray = NDArray[np.bool_]
ROWS_PER_CHUNK = 2048  # eligibility rows per chunk: 2048 x branches booleans at a time
NEAR_LIMIT = 1e-9  # dot products this close to cos(limit) are re-checked by haversine


def augment_to_maximum(
    *, problem: AllocationProblem, active: BoolArray, branch: IntArray
) -> tuple[IntArray, int]:
    """Unit-workload plan -> a plan with the maximum number of leads assigned (location mode).

    Returns the new branch-per-lead vector and how many leads the augmenting paths added.
    """
    out = branch.copy()
    capacity = problem.branches.capacity
    load = np.bincount(out[out >= 0], minlength=problem.branches.size).astype(np.int64)
    free = np.flatnonzero(active & (out < 0))
    if len(free) == 0 or not (load < capacity).any():
        return out, 0
    moves = _move_counts(problem=problem, branch=out)
    added = 0
    reach = _reaching_room(moves=moves, room=load < capacity)
    for lo in range(0, len(free), ROWS_PER_CHUNK):
        chunk = free[lo : lo + ROWS_PER_CHUNK]
        rows = _eligible_rows(problem, chunk)
        for k in np.flatnonzero((rows & reach).any(axis=1)).tolist():
            if not (rows[k] & reach).any():  # reach shrank since the chunk was tested
                continue
            path = _augmenting_path(starts=rows[k], moves=moves, room=load < capacity)
            assert path is not None  # reach says one exists
            _apply(problem=problem, lead=int(chunk[k]), path=path, branch=out, moves=moves)
            load[path[-1]] += 1
            added += 1
            reach = _reaching_room(moves=moves, room=load < capacity)
    return out, added


def _reaching_room(*, moves: IntArray, room: BoolArray) -> BoolArray:
    """Branches from which a chain of moves ends at a branch with room (backward closure)."""
    step = moves > 0
    reach = room.copy()
    while True:
        grown = reach | step[:, reach].any(axis=1)
        if np.array_equal(grown, reach):
            return reach
        reach = grown


def _eligible_rows(problem: AllocationProblem, leads: IntArray) -> BoolArray:
    """(len(leads), branches): tier served by an active branch, and within max distance.

    Distances via unit-vector dot products (one matrix product); only pairs within
    NEAR_LIMIT of the limit are decided by the validator's haversine, so both agree.
    """
    rows = np.asarray(problem.eligible_matrix()[problem.leads.tier[leads]])
    limit = problem.params.max_distance_km
    if limit is None:
        return rows
    b = problem.branches
    lat, lon = problem.leads.lat[leads], problem.leads.lon[leads]
    dot = unit_vectors(lat, lon) @ unit_vectors(b.lat, b.lon).T
    threshold = math.cos(limit / EARTH_RADIUS_KM)
    inside = dot >= threshold + NEAR_LIMIT
    unsure = np.nonzero(rows & ~inside & (dot >= threshold - NEAR_LIMIT))
    inside[unsure] = (
        haversine_km_np(lat[unsure[0]], lon[unsure[0]], b.lat[unsure[1]], b.lon[unsure[1]]) <= limit
    )
    return rows & inside


def _move_counts(*, problem: AllocationProblem, branch: IntArray) -> IntArray:
    """moves[j, k] = number of leads at branch j that may go to branch k."""
    n = problem.branches.size
    moves = np.zeros((n, n), np.int64)
    sent = np.flatnonzero(branch >= 0)
    for lo in range(0, len(sent), ROWS_PER_CHUNK):
        chunk = sent[lo : lo + ROWS_PER_CHUNK]
        chunk = chunk[np.argsort(branch[chunk], kind="stable")]
        owner = branch[chunk]
        first = np.flatnonzero(np.r_[True, owner[1:] != owner[:-1]])
        rows = _eligible_rows(problem, chunk).astype(np.int64)
        moves[owner[first]] += np.add.reduceat(rows, first, axis=0)
    return moves


def _augmenting_path(*, starts: BoolArray, moves: IntArray, room: BoolArray) -> list[int] | None:
    """Breadth-first: branches j0..jm with j0 eligible for the lead and jm with room."""
    parent = np.full(len(room), -2, np.int64)
    queue: deque[int] = deque()
    for j in np.flatnonzero(starts).tolist():
        parent[j] = -1
        queue.append(j)
    while queue:
        j = queue.popleft()
        if room[j]:
            path = [j]
            while parent[path[-1]] >= 0:
                path.append(int(parent[path[-1]]))
            return path[::-1]
        for k in np.flatnonzero((moves[j] > 0) & (parent == -2)).tolist():
            parent[k] = j
            queue.append(k)
    return None


def _apply(
    *, problem: AllocationProblem, lead: int, path: list[int], branch: IntArray, moves: IntArray
) -> None:
    """Shift one lead along each step (from the end, so each branch gives before it takes)."""
    for src, dst in reversed(list(itertools.pairwise(path))):
        here = np.flatnonzero(branch == src)
        ok = _eligible_rows(problem, here)[:, dst]
        mover = int(here[np.flatnonzero(ok)[0]])  # lowest index: deterministic
        row = _eligible_rows(problem, np.array([mover]))[0].astype(np.int64)
        moves[src] -= row
        moves[dst] += row
        branch[mover] = dst
    branch[lead] = path[0]
    moves[path[0]] += _eligible_rows(problem, np.array([lead]))[0].astype(np.int64)

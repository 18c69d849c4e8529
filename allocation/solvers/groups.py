"""Groups of interchangeable-looking leads: same tier class, nearby points.

A group is a contiguous run of `members` (lead indices, sorted by group). Its centre and radius
(metres) bound every member's distance to a branch by the triangle inequality, which lets the
pricing pass look at individual leads only where a group straddles a boundary between branches.
Groups only ever split (by the branch each member prefers), so the refinement terminates.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from allocation.geo import paired_metres

IntArray = NDArray[np.int64]
FloatArray = NDArray[np.float64]


@dataclass(frozen=True)
class Groups:
    """members[start[g]:start[g+1]] are the leads of group g (indices into the unit vectors)."""

    members: IntArray
    start: IntArray
    tier: IntArray
    centre: FloatArray
    radius: FloatArray
    spread: FloatArray  # each member's distance (m) to its group centre, in `members` order

    @property
    def size(self) -> int:
        return len(self.tier)

    @property
    def counts(self) -> IntArray:
        return np.diff(self.start)

    def group_of_members(self) -> IntArray:
        return np.repeat(np.arange(self.size, dtype=np.int64), self.counts)


def cell_groups(
    *, units: FloatArray, lat: FloatArray, lon: FloatArray, tier: IntArray, cell_deg: float
) -> Groups:
    """Initial groups: one per (tier, lat/lon grid cell of `cell_deg` degrees)."""
    row = np.floor((lat + 90.0) / cell_deg).astype(np.int64)
    col = np.floor((lon + 180.0) / cell_deg).astype(np.int64)
    key = (tier * (row.max(initial=0) + 1) + row) * (col.max(initial=0) + 1) + col
    return _from_keys(units=units, members=np.arange(len(key), dtype=np.int64), key=key)


def split_groups(
    *, groups: Groups, units: FloatArray, label: IntArray
) -> tuple[Groups, IntArray, IntArray]:
    """Split every group by a per-member label (in `members` order).

    Returns (new groups, parent group of each, label of each). Groups that do not split keep
    their geometry; only the pieces of split groups are measured again.
    """
    n_labels = int(label.max(initial=0)) + 1
    key = groups.group_of_members() * n_labels + label
    order = np.argsort(key, kind="stable")
    sorted_key = key[order]
    first = np.flatnonzero(np.r_[True, sorted_key[1:] != sorted_key[:-1]])
    start = np.r_[first, len(key)].astype(np.int64)
    parent, head = sorted_key[first] // n_labels, sorted_key[first] % n_labels
    members = groups.members[order]
    whole = np.bincount(parent, minlength=groups.size)[parent] == 1
    centre, radius = groups.centre[parent], groups.radius[parent]
    spread = groups.spread[order]
    pieces = np.flatnonzero(~whole)
    if len(pieces):
        sub = _ranges(start[pieces], np.diff(start)[pieces])
        sub_start = np.r_[0, np.cumsum(np.diff(start)[pieces])]
        part = _with_geometry(units=units, members=members[sub], start=sub_start)
        centre[pieces], radius[pieces], spread[sub] = part.centre, part.radius, part.spread
    new = Groups(
        members=members,
        start=start,
        tier=groups.tier[parent],
        centre=centre,
        radius=radius,
        spread=spread,
    )
    return new, parent, head


def _ranges(starts: IntArray, lengths: IntArray) -> IntArray:
    total = int(lengths.sum())
    offsets = np.arange(total, dtype=np.int64) - np.repeat(np.cumsum(lengths) - lengths, lengths)
    return np.repeat(starts, lengths) + offsets


def _from_keys(*, units: FloatArray, members: IntArray, key: IntArray) -> Groups:
    order = np.argsort(key, kind="stable")
    sorted_key = key[order]
    first = np.flatnonzero(np.r_[True, sorted_key[1:] != sorted_key[:-1]])
    start = np.r_[first, len(key)].astype(np.int64)
    ordered = members[order]
    return _with_geometry(units=units, members=ordered, start=start)


def _with_geometry(*, units: FloatArray, members: IntArray, start: IntArray) -> Groups:
    """Centre = normalised mean of member vectors; radius = farthest member from it."""
    counts = np.diff(start)
    heads = start[:-1]
    sums = np.add.reduceat(units[members], heads, axis=0) if len(members) else np.zeros((0, 3))
    norms = np.linalg.norm(sums, axis=1, keepdims=True)
    centre = sums / np.where(norms > 0, norms, 1.0)
    spread = paired_metres(units[members], np.repeat(centre, counts, axis=0))
    radius = np.maximum.reduceat(spread, heads) if len(members) else np.zeros(0)
    # Rounding in the chord formula is below a millimetre; pad so bounds stay sound.
    return Groups(
        members=members,
        start=start,
        tier=np.zeros(len(heads), np.int64),
        centre=centre,
        radius=radius + 0.01,
        spread=spread + 0.01,
    )


def with_tiers(*, groups: Groups, lead_tier: IntArray) -> Groups:
    """Attach each group's tier (all members share it by construction)."""
    return Groups(
        members=groups.members,
        start=groups.start,
        tier=lead_tier[groups.members[groups.start[:-1]]],
        centre=groups.centre,
        radius=groups.radius,
        spread=groups.spread,
    )

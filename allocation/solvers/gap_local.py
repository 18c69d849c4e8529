"""Construction and local search for the GAP (every lead assigned exactly once).

Both work on each lead's options ``(branch, cost, load)`` listed in preference order (the
caller orders them by Lagrangian reduced cost, see ``gap_lagrange``), and both keep every
branch's assigned load within its capacity at every step: a move is applied only when the
receiving branch has room for it. Deterministic: fixed scan orders, no randomness; the
deadline is only a safety cap.
"""

from __future__ import annotations

import time
from collections.abc import Sequence

Option = tuple[int, int, int]  # (branch, cost, load)

# How many of a lead's preferred options a swap tries (shifts try them all).
_SWAP_OPTIONS = 4
_MAX_PASSES = 50


def construct(
    capacities: Sequence[int], options: Sequence[Sequence[Option]], *, order: Sequence[int]
) -> list[int] | None:
    """Leads in ``order`` each take their first option with room; None if one finds none."""
    room = list(capacities)
    plan = [-1] * len(options)
    for lead in order:
        for branch, _cost, load in options[lead]:
            if load <= room[branch]:
                room[branch] -= load
                plan[lead] = branch
                break
        else:
            if options[lead]:
                return None
    return plan


def improve(
    plan: list[int],
    capacities: Sequence[int],
    options: Sequence[Sequence[Option]],
    *,
    deadline: float,
) -> list[int]:
    """Apply improving shift and swap moves until none is left (or the deadline passes)."""
    search = _Search(plan, capacities, options)
    for _ in range(_MAX_PASSES):
        moved = search.shift_pass()
        if time.perf_counter() < deadline:
            moved += search.swap_pass(deadline)
        if not moved or time.perf_counter() >= deadline:
            break
    return search.plan


class _Search:
    """A plan plus each branch's room and members, kept consistent by ``_move``."""

    def __init__(
        self, plan: list[int], capacities: Sequence[int], options: Sequence[Sequence[Option]]
    ) -> None:
        self.plan = list(plan)
        self.options = options
        self.table = [{b: (c, w) for b, c, w in opts} for opts in options]
        self.room = list(capacities)
        self.members: list[set[int]] = [set() for _ in capacities]
        for lead, branch in enumerate(self.plan):
            if branch >= 0:
                self.room[branch] -= self.table[lead][branch][1]
                self.members[branch].add(lead)
        if any(r < 0 for r in self.room):
            raise ValueError("the starting plan exceeds a capacity")

    def shift_pass(self) -> int:
        # Move a lead to a cheaper branch that has room for it.
        moved = 0
        for lead, branch in enumerate(self.plan):
            if branch < 0:
                continue
            cost = self.table[lead][branch][0]
            best = min(
                ((c, b) for b, c, w in self.options[lead] if c < cost and w <= self.room[b]),
                default=None,
            )
            if best is not None:
                self._move(lead, best[1])
                moved += 1
        return moved

    def swap_pass(self, deadline: float) -> int:
        # Exchange two leads' branches when both fit afterwards and the total cost drops.
        moved = 0
        for lead in range(len(self.plan)):
            if self.plan[lead] >= 0 and self._best_swap(lead):
                moved += 1
            if lead % 256 == 0 and time.perf_counter() >= deadline:
                break
        return moved

    def _best_swap(self, lead: int) -> bool:
        here = self.plan[lead]
        cost_here, load_here = self.table[lead][here]
        best: tuple[int, int] | None = None
        best_delta = 0
        for there, cost_there, load_there in self.options[lead][:_SWAP_OPTIONS]:
            if there == here:
                continue
            for other in self.members[there]:
                back = self.table[other].get(here)
                if back is None:
                    continue
                other_cost, other_load = self.table[other][there]
                delta = cost_there - cost_here + back[0] - other_cost
                if (
                    delta < best_delta
                    and load_there - other_load <= self.room[there]
                    and back[1] - load_here <= self.room[here]
                ):
                    best, best_delta = (other, there), delta
        if best is None:
            return False
        other, there = best
        # Move out first so neither branch is ever over capacity, even transiently.
        self._move(other, -1)
        self._move(lead, there)
        self._move(other, here)
        return True

    def _move(self, lead: int, branch: int) -> None:
        old = self.plan[lead]
        if old >= 0:
            self.room[old] += self.table[lead][old][1]
            self.members[old].discard(lead)
        if branch >= 0:
            load = self.table[lead][branch][1]
            if load > self.room[branch]:
                raise AssertionError("a move would exceed a capacity")
            self.room[branch] -= load
            self.members[branch].add(lead)
        self.plan[lead] = branch

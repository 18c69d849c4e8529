"""Min-cost flow through OR-Tools `SimpleMinCostFlow`: the only door to the flow library.

Callers build integer arrays (tails, heads, capacities, unit costs, node supplies); this module
solves and maps the raw status to our own. Min-cost flow has no time limit or threads: it is
a deterministic polynomial algorithm (cost scaling), so the same arrays give the same flows.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from ortools.graph.python import min_cost_flow

from allocation.errors import SolverError

IntArray = NDArray[np.int64]


@dataclass(frozen=True)
class FlowNetwork:
    """Arcs (tail -> head, capacity, integer unit cost) and node supplies (sum 0)."""

    tails: IntArray
    heads: IntArray
    capacities: IntArray
    costs: IntArray
    supplies: IntArray


def solve_flow(network: FlowNetwork) -> IntArray:
    """Optimal flow on every arc, in arc order; raises SolverError if there is none."""
    # data -> variables: one arc variable per (tail, head) in the given order
    solver = min_cost_flow.SimpleMinCostFlow()
    arcs = solver.add_arcs_with_capacity_and_unit_cost(
        network.tails, network.heads, network.capacities, network.costs
    )
    # constraints: flow conservation with the given supplies
    solver.set_nodes_supplies(np.arange(len(network.supplies)), network.supplies)
    # objective: sum of unit cost x flow (built into the solver) -> solve -> status mapping
    status = solver.solve()
    if status != solver.OPTIMAL:
        raise SolverError(f"min-cost flow ended with status {status!r}")
    return np.asarray(solver.flows(arcs), dtype=np.int64)

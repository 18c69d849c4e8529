"""Solvers of the allocation core; the only modules that may import OR-Tools.

- `transport`: unit-workload rounds on true coordinates: min-cost flow on groups of leads with
  pricing (`pricing`, `prices`) until optimal or the time limit (`network`, `flow`, `groups`);
- `pair_flow`: pair mode with unit workloads, min-cost flow on the listed pairs;
- `gap_cpsat`: pair mode with workloads > 1 (generalized assignment) with CP-SAT;
- `screen`: who can take part at all, and each lead's nearest eligible branch.
"""

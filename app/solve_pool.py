"""Many solves of one problem side by side: local processes, or a Ray cluster.

The problem goes to each worker once (a process initialiser, or Ray's object store), and each
task names only its variation. Ray is an optional extra (`pip install -e '.[ray]'`); a
cluster's workers need this package installed, as the local ones have it.
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from typing import Any

from allocation.model import AllocationProblem
from allocation.sweep import SweepPoint, Variation, solve_variation
from app.errors import InvalidInput

_problem: AllocationProblem | None = None  # the worker process's copy


def default_workers() -> int:
    return max(1, os.cpu_count() or 1)


def run_variations(
    problem: AllocationProblem,
    variations: Sequence[Variation],
    *,
    time_limit_s: float,
    workers: int,
    ray_address: str | None = None,
) -> list[SweepPoint]:
    """One point per variation, in the variations' order."""
    if ray_address:
        return _on_ray(problem, variations, time_limit_s=time_limit_s, address=ray_address)
    if workers <= 1:
        return [solve_variation(problem, v, time_limit_s=time_limit_s) for v in variations]
    # spawn: a fresh interpreter per worker, safe beside the server's threads and pools.
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(
        max_workers=workers, mp_context=context, initializer=_keep, initargs=(problem,)
    ) as pool:
        limits = [time_limit_s] * len(variations)
        return list(pool.map(_solve_kept, variations, limits))


def _keep(problem: AllocationProblem) -> None:
    global _problem
    _problem = problem


def _solve_kept(variation: Variation, time_limit_s: float) -> SweepPoint:
    assert _problem is not None, "worker started without its problem"
    return solve_variation(_problem, variation, time_limit_s=time_limit_s)


def _on_ray(
    problem: AllocationProblem, variations: Sequence[Variation], *, time_limit_s: float,
    address: str,
) -> list[SweepPoint]:  # fmt: skip
    ray = _ray()
    if not ray.is_initialized() and address == "local":
        ray.init(log_to_driver=False, include_dashboard=False)
    elif not ray.is_initialized():
        ray.init(address=address, log_to_driver=False)
    task = ray.remote(num_cpus=1)(solve_variation)
    shared = ray.put(problem)
    return list(ray.get([task.remote(shared, v, time_limit_s=time_limit_s) for v in variations]))


def _ray() -> Any:
    try:
        import ray
    except ImportError:
        raise InvalidInput(
            "O2O_RAY_ADDRESS is set but Ray is not installed: pip install -e '.[ray]'"
        ) from None
    return ray

"""Moves per second and plan quality of the compiled tabu search alone, at equal wall time.

Usage (from the repository root):

    .venv/bin/python bench/gap_tabu_speed.py [--seconds 10] [--module FILE] NAME...

NAME is an instance under /work/shared/benchmarks/gap (e.g. yagiura2004/d20400). The search
starts from the warm start's plan (as in ``solve_gap``) on one thread with seed 0 and stops on
the wall clock; moves are counted per wall second and evaluations per CPU second of the
process (the machine is shared). ``--module`` loads another copy of ``gap_tabu.py`` (e.g.
main's) for A/B.
"""

from __future__ import annotations

import argparse
import atexit
import importlib.util
import shutil
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from allocation.gap_instances import parse_gap  # noqa: E402
from allocation.solvers import gap_cpsat  # noqa: E402
from allocation.solvers.gap_warm import warm_start  # noqa: E402
from bench.gap_benchmark import DEFAULT_ROOT as ROOT  # noqa: E402
from bench.gap_benchmark import _read_optima  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("names", nargs="+")
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--module", type=Path, default=None)
    args = parser.parse_args()
    tabu = _module(args.module)
    published = _read_optima(ROOT / "optima.csv")
    for name in args.names:
        instance = parse_gap((ROOT / name).read_text(encoding="utf-8"), source=name)
        data = gap_cpsat._prepare(
            n_leads=instance.n_jobs, capacities=instance.capacities, pairs=instance.pairs()
        )
        warm = warm_start(
            n_leads=data.n_leads,
            capacities=data.capacities,
            pairs=data.pairs,
            plan=gap_cpsat._greedy(data),
            deadline=time.perf_counter() + 9.0,
        )
        problem = tabu.Problem.build(
            data.n_leads, data.capacities, [data.pairs[p] for p in warm.kept]
        )
        tabu.search(problem, warm.plan, evaluations=1, seed=0, alpha=1.0)  # compile/load
        started, cpu = time.perf_counter(), time.process_time()
        found = tabu.search(
            problem,
            warm.plan,
            evaluations=10**13,
            seed=0,
            alpha=gap_cpsat._first_penalty(warm),
            lower_bound=warm.bound,
            deadline=started + args.seconds,
        )
        seconds = time.perf_counter() - started
        cpu = time.process_time() - cpu  # the machine is shared: CPU time is the fairer unit
        ref = published[name].optimum or published[name].best_known or 0
        print(
            f"{name}: warm {warm.cost} -> {found.cost} ({100 * (found.cost - ref) / ref:.3f}% "
            f"above {ref}), {found.moves / seconds:,.0f} moves/s, "
            f"{found.evaluations / cpu / 1e6:.1f}M evals/CPU-s, {seconds:.1f} s wall, {cpu:.1f} s CPU",
            flush=True,
        )


def _module(path: Path | None):  # type: ignore[no-untyped-def]
    if path is None:
        from allocation.solvers import gap_tabu

        return gap_tabu
    # Loaded from a copy in a folder of its own: numba caches compiled functions beside the
    # file, under the name it was imported by, and a cache written beside the installed
    # gap_tabu.py under another name broke its next normal import (ModuleNotFoundError).
    folder = Path(tempfile.mkdtemp(prefix="gap-tabu-ab-"))
    atexit.register(shutil.rmtree, folder, ignore_errors=True)
    copy = folder / "gap_tabu_ab.py"
    shutil.copyfile(path, copy)
    spec = importlib.util.spec_from_file_location(copy.stem, copy)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[copy.stem] = module
    spec.loader.exec_module(module)
    return module


if __name__ == "__main__":
    main()

"""Moves per second and plan quality of the compiled tabu search alone, at equal wall time.

Usage (from the repository root):

    .venv/bin/python bench/gap_tabu_speed.py [--seconds 10] [--cpu] [--seeds 0,1]
        [--set NAME=VALUE ...] [--warm-cache DIR] [--module FILE] NAME...

NAME is an instance under /work/shared/benchmarks/gap (e.g. yagiura2004/d20400). The search
starts from the warm start's plan (as in ``solve_gap``) on one thread with each seed (default
0) and stops on the wall clock, or with ``--cpu`` on the process's CPU time (the machine is
shared: the fairer unit); moves and evaluations are counted per CPU second.
``--set`` overrides a tuning setting of the search (names in ``gap_tabu._settings``).
``--warm-cache`` keeps each instance's warm start in DIR, so A/B runs start from the same
plan and skip its seconds. ``--module`` loads another copy of ``gap_tabu.py`` (e.g. main's)
for A/B.
"""

from __future__ import annotations

import argparse
import hashlib
import importlib.util
import json
import shutil
import sys
import tempfile
import time
import types
from pathlib import Path
from typing import Any

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
    parser.add_argument("--cpu", action="store_true", help="stop on CPU time, not wall time")
    parser.add_argument("--seeds", default="0", help="comma-separated, e.g. 0,1")
    parser.add_argument("--set", action="append", default=[], metavar="NAME=VALUE")
    parser.add_argument("--warm-cache", type=Path, default=None)
    parser.add_argument("--module", type=Path, default=None)
    args = parser.parse_args()
    settings = {k: float(v) for k, v in (item.split("=", 1) for item in args.set)}
    tabu = _module(args.module)
    clock = time.process_time if args.cpu else time.perf_counter
    # The search looks at the clock between chunks through its module's ``time``.
    tabu.time = types.SimpleNamespace(perf_counter=clock)
    published = _read_optima(ROOT / "optima.csv")
    for name in args.names:
        instance = parse_gap((ROOT / name).read_text(encoding="utf-8"), source=name)
        data = gap_cpsat._prepare(
            n_leads=instance.n_jobs, capacities=instance.capacities, pairs=instance.pairs()
        )
        warm = _warm(data, name, args.warm_cache)
        problem = tabu.Problem.build(
            data.n_leads, data.capacities, [data.pairs[p] for p in warm["kept"]]
        )
        tabu.search(problem, warm["plan"], evaluations=1, seed=0, alpha=1.0)  # compile/load
        for seed in [int(s) for s in args.seeds.split(",")]:
            started, cpu = time.perf_counter(), time.process_time()
            found = tabu.search(
                problem,
                warm["plan"],
                evaluations=10**13,
                seed=seed,
                alpha=warm["alpha"],
                lower_bound=warm["bound"],
                deadline=clock() + args.seconds,
                settings=settings or None,
            )
            seconds = time.perf_counter() - started
            cpu = time.process_time() - cpu
            ref = published[name].optimum or published[name].best_known or 0
            print(
                f"{name} seed {seed}: warm {warm['cost']} -> {found.cost} "
                f"({100 * (found.cost - ref) / ref:.3f}% above {ref}), "
                f"{found.moves / cpu:,.0f} moves/CPU-s, "
                f"{found.evaluations / cpu / 1e6:.1f}M evals/CPU-s, {seconds:.1f} s wall, "
                f"{cpu:.1f} s CPU {settings or ''}",
                flush=True,
            )


def _warm(data: gap_cpsat._Data, name: str, cache: Path | None) -> dict[str, Any]:
    # The warm start's plan, kept pairs, bound, cost and first penalty (read from ``cache``
    # when it holds them).
    path = cache / (name.replace("/", "__") + ".json") if cache else None
    if path is not None and path.exists():
        return json.loads(path.read_text(encoding="utf-8"))  # type: ignore[no-any-return]
    warm = warm_start(
        n_leads=data.n_leads,
        capacities=data.capacities,
        pairs=data.pairs,
        plan=gap_cpsat._greedy(data),
        deadline=time.perf_counter() + 9.0,
    )
    found = {
        "plan": [int(b) for b in warm.plan],
        "kept": [int(p) for p in warm.kept],
        "bound": float(warm.bound),
        "cost": int(warm.cost),
        "alpha": gap_cpsat._first_penalty(warm),
    }
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(found), encoding="utf-8")
    return found


def _module(path: Path | None):  # type: ignore[no-untyped-def]
    if path is None:
        from allocation.solvers import gap_tabu

        return gap_tabu
    # Loaded from a copy in a folder of its own: numba caches compiled functions beside the
    # file, under the name it was imported by, and a cache written beside the installed
    # gap_tabu.py under another name broke its next normal import (ModuleNotFoundError). The
    # folder is named by the file's content, so the next run loads the compiled code.
    digest = hashlib.sha256(path.read_bytes()).hexdigest()[:16]
    folder = Path(tempfile.gettempdir()) / f"gap-tabu-ab-{digest}"
    folder.mkdir(exist_ok=True)
    copy = folder / "gap_tabu_ab.py"
    if not copy.exists():
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

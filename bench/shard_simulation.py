"""Simulate the move to a sharded PostgreSQL (Citus, distributed by customer_id) on one server.

    python -m bench.shard_simulation --leads 200000 --branches 300 --shards 2 4 \\
        --server postgresql://postgres@127.0.0.1:5432/postgres

K databases (`<prefix>_k0` ...) stand in for Citus workers, `<prefix>_single` is the one node
to compare with. The lead file is split by customer (bench/shard_world), each part imported
into its shard with the product's importer, in parallel processes; the branches (a reference
table) go to every shard. The coordinator solves the round once over all shards' pools and the
shards commit their parts in parallel (bench/shard_round), after the coordinator has checked
the summed branch loads. The result is verified against the single node (bench/shard_checks).
Prints wall times, the work summed over shards and the load average; exit status 1 if a check
fails. Citus itself cannot be installed here; docs/scale-out.md says what this does and does
not show.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from multiprocessing import get_context
from pathlib import Path

from app.db import session_scope
from app.rounds.queries import read_round
from app.rounds.service import RoundParams, commit_round, run_round
from bench.shard_checks import capacity_hole, round_figures, verify
from bench.shard_round import commit_on_shards, solve_and_store
from bench.shard_world import (
    Inputs,
    copy_database,
    database_url,
    dispose_engines,
    drop_databases,
    engine_for,
    forget_engines,
    import_part,
    prepare_template,
    settings_for,
    split_leads,
    write_inputs,
)

Say = Callable[[str], None]


@dataclass(frozen=True)
class Outcome:
    passed: bool
    lines: list[str]


def load() -> str:
    return "load {:.2f} {:.2f} {:.2f}".format(*os.getloadavg())


def run_single(url: str, inputs: Inputs, *, template: str, say: Say) -> int:
    copy_database(url, template=template, shard=None)
    settings, engine = settings_for(url), engine_for(url)
    inserted, import_s = import_part((url, inputs.leads))
    started = time.perf_counter()
    round_id = run_round(engine, settings=settings, actor="bench", params=RoundParams(),
                         commit=False)  # fmt: skip
    round_s = time.perf_counter() - started
    started = time.perf_counter()
    commit_round(engine, settings=settings, actor="bench", round_id=round_id)
    commit_s = time.perf_counter() - started
    with session_scope(engine) as session:
        solve_s = read_round(session, round_id=round_id).solve_seconds
    say(
        f"single node: import {import_s:.1f} s ({inserted} leads), round {round_s:.1f} s "
        f"(pool, solve {solve_s:.1f} s, store), commit {commit_s:.1f} s  [{load()}]"
    )
    return round_id


def run_sharded(urls: list[str], inputs: Inputs, *, template: str, say: Say) -> int | None:
    """The round's id, or None if the commit was refused."""
    k = len(urls)
    parts = split_leads(inputs.leads, shards=k, secret=settings_for(urls[0]).customer_key)
    for shard, url in enumerate(urls):
        copy_database(url, template=template, shard=shard)
    dispose_engines()
    started = time.perf_counter()
    with ProcessPoolExecutor(k, mp_context=get_context("fork"), initializer=forget_engines) as pool:
        imported = list(pool.map(import_part, zip(urls, parts, strict=True)))
    import_wall = time.perf_counter() - started
    sizes = ", ".join(str(n) for n, _ in imported)
    say(
        f"K={k}: import wall {import_wall:.1f} s, shard times "
        f"{' + '.join(f'{s:.1f}' for _, s in imported)} = {sum(s for _, s in imported):.1f} s "
        f"of work (leads per shard: {sizes})  [{load()}]"
    )
    shard_round = solve_and_store(urls, settings=settings_for(urls[0]))
    phases = ", ".join(f"{name} {s:.1f} s" for name, s in shard_round.seconds.items())
    say(f"K={k}: coordinator round: {phases}  [{load()}]")
    say(f"K={k}: {capacity_hole(urls, round_id=shard_round.round_id)}")
    dispose_engines()
    wall, times, problems = commit_on_shards(urls, round_id=shard_round.round_id)
    if problems:
        say(f"K={k}: commit REFUSED after {wall:.1f} s: {'; '.join(problems)}")
        return None
    say(
        f"K={k}: commit wall {wall:.1f} s, shard times "
        f"{' + '.join(f'{s:.1f}' for s in times)} = {sum(times):.1f} s of work  [{load()}]"
    )
    return shard_round.round_id


def simulate(
    *, server: str, prefix: str, leads: int, branches: int, shards: list[int], folder: Path,
    seed: int = 1, capacity_ratio: float = 0.85, keep: bool = False, say: Say = print,
) -> Outcome:  # fmt: skip
    lines: list[str] = []

    def tell(line: str) -> None:
        lines.append(line)
        say(line)

    inputs = write_inputs(
        folder, leads=leads, branches=branches, seed=seed, capacity_ratio=capacity_ratio,
        repeat_share=0.2, no_mobile_share=0.1,
    )  # fmt: skip
    template = database_url(server, f"{prefix}_template")
    single_url = database_url(server, f"{prefix}_single")
    urls = [database_url(server, f"{prefix}_k{k}") for k in range(max(shards))]
    tell(f"leads={leads} branches={branches} shards={shards}  [{load()}]")
    passed = True
    try:
        prepare_template(template, branches=inputs.branches)
        single_round = run_single(single_url, inputs, template=template, say=tell)
        single = round_figures([single_url], round_id=single_round)
        for k in shards:
            round_id = run_sharded(urls[:k], inputs, template=template, say=tell)
            if round_id is None:
                passed = False
                continue
            verdict = verify(single, round_figures(urls[:k], round_id=round_id), urls[:k])
            for line in (f"K={k}: verification", *verdict.lines):
                tell(line)
            passed = passed and not verdict.failures
    finally:
        dispose_engines()
        if not keep:
            drop_databases([template, single_url, *urls])
    return Outcome(passed=passed, lines=lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--leads", type=int, default=200_000)
    parser.add_argument("--branches", type=int, default=300)
    parser.add_argument("--shards", type=int, nargs="+", default=[2, 4])
    parser.add_argument("--server", default="postgresql://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--prefix", default="o2o_shards")
    parser.add_argument("--folder", type=Path, default=Path("/tmp/o2o-shards"))
    parser.add_argument("--capacity-ratio", type=float, default=0.85)
    parser.add_argument("--keep", action="store_true", help="keep the databases afterwards")
    args = parser.parse_args()
    outcome = simulate(
        server=args.server, prefix=args.prefix, leads=args.leads, branches=args.branches,
        shards=args.shards, folder=args.folder, capacity_ratio=args.capacity_ratio,
        keep=args.keep, say=lambda line: print(line, flush=True),
    )  # fmt: skip
    print("verification passed" if outcome.passed else "VERIFICATION FAILED")
    sys.exit(0 if outcome.passed else 1)


if __name__ == "__main__":
    main()

"""Scale: `o2o allocate` CSV -> CSV on a generated China-wide instance, timed per phase.

Runs the command in a fresh process (through `app.cli.allocate.allocate`, the function behind
`o2o allocate`), so parse / solve / validate / write times and peak memory are the command's own.

    python bench/generate.py --leads 1300000 --branches 300 --out /tmp/i1300k --seed 1
    python bench/allocation_scale.py --instance /tmp/i1300k --time-limit 40
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import time
from pathlib import Path

import typer

from app.cli.allocate import allocate


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--instance", type=Path, required=True)
    parser.add_argument("--time-limit", type=float, default=40.0)
    parser.add_argument("--balance-weight", type=float, default=0.0)
    args = parser.parse_args()
    app = typer.Typer()
    app.command("allocate")(allocate)
    app.command("noop")(lambda: None)
    out, report = args.instance / "ASSIGNMENTS.csv", args.instance / "REPORT.json"
    argv = [
        "allocate",
        "--branches",
        str(args.instance / "BRANCHES.csv"),
        "--leads",
        str(args.instance / "LEADS.csv"),
        "--out",
        str(out),
        "--report",
        str(report),
        "--time-limit",
        str(args.time_limit),
        "--balance-weight",
        str(args.balance_weight),
    ]
    started = time.monotonic()
    try:
        app(argv, standalone_mode=False)
    finally:
        wall = time.monotonic() - started
    figures = json.loads(report.read_text(encoding="utf-8"))
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    summary = {
        k: figures[k]
        for k in (
            "status",
            "assigned",
            "unassigned",
            "objective",
            "lower_bound",
            "gap",
            "solve_seconds",
            "iterations",
        )
    }
    laps = figures["timings_seconds"]
    laps["wrote (report + files, rest of wall)"] = round(wall - sum(laps.values()), 2)
    summary |= {
        "timings_seconds": laps,
        "wall_seconds": round(wall, 2),
        "peak_rss_mb": round(peak),
        "distance": figures["distance"],
    }
    json.dump(summary, sys.stdout, indent=1)
    print()


if __name__ == "__main__":
    main()

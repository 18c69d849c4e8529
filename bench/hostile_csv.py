"""Hostile CSV inputs (issue 13, finding 9): time and peak memory of refusing them.

    .venv/bin/python bench/hostile_csv.py [--megabytes 200]

Prints the seconds the importers' header check takes for a 60,000-column header and the
peak resident memory of `o2o allocate`'s reader refusing MB of garbage under a valid header.
"""

from __future__ import annotations

import argparse
import io
import random
import resource
import string
import tempfile
import time
from pathlib import Path

from allocation.errors import InputFileError
from allocation_files.reading import read_columns
from app.errors import FileRejected
from app.imports.csvfile import read_rows


def wide_header() -> None:
    header = ",".join(f"c{k}" for k in range(60_000)) + "\n"
    started = time.perf_counter()
    try:
        for _row in read_rows(io.StringIO(header + "x\n"), file="wide.csv", required=("a",)):
            pass
    except FileRejected as exc:
        print(f"wide header: {exc.errors[0]}")
    print(f"metric=wide_header_seconds value={time.perf_counter() - started:.3f}")


def garbage(megabytes: int) -> None:
    rng = random.Random(13)
    line = "".join(rng.choices(string.ascii_letters + " ;|", k=199)) + "\n"
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "leads.csv"
        with path.open("w", encoding="utf-8") as stream:
            stream.write("external_id,lat,lon\n")
            for _ in range(megabytes * 1024 * 1024 // len(line)):
                stream.write(line)
        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        started = time.perf_counter()
        try:
            read_columns(path, required=("external_id",), optional=("lat", "lon"))
        except InputFileError as exc:
            print(f"garbage: {exc}")
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        print(f"metric=garbage_{megabytes}mb_seconds value={time.perf_counter() - started:.2f}")
        print(f"metric=garbage_{megabytes}mb_peak_rss_mib value={peak / 1024:.0f} "
              f"(before {before / 1024:.0f})")  # fmt: skip


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--megabytes", type=int, default=200)
    args = parser.parse_args()
    wide_header()
    garbage(args.megabytes)

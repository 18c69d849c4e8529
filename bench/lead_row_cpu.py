"""CPU per row of a lead import worker (`app.leads.parallel_stage`), piece by piece, in one process.

    nice -n 19 python -m bench.lead_row_cpu /tmp/leads-1300000.csv --rows 400000 --shares 2

(Run as `python bench/lead_row_cpu.py` with PYTHONPATH set to another checkout to measure its
code; the first line printed says whose code ran.)

Reads the first `--rows` data rows of a lead CSV (as `bench.round_at_scale.write_inputs`
writes it) as share 0 of `--shares` workers, and prints microseconds of process CPU per
validated row: reading, reading + row checks, the whole worker loop (+ COPY text), then the
pieces of a row check alone over the rows' own values.
"""

from __future__ import annotations

import argparse
import itertools
import time
from collections.abc import Callable, Iterator
from datetime import UTC
from pathlib import Path
from typing import Any

from allocation.locality import normalise_mobile, resolve_location
from app.imports.csvfile import CsvRow, ErrorCollector, read_rows
from app.imports.fields import parse_instant
from app.leads import parallel_stage
from app.leads.rows import REQUIRED, LeadRowParser, customer_key
from app.privacy.cipher import MobileCipher

SECRET = b"bench-secret:customer-key"
KEY = bytes(range(32))


def _rows(path: Path, *, rows: int, shares: int) -> Iterator[CsvRow]:
    with path.open("r", encoding="utf-8-sig", newline="") as stream:
        read = read_rows(stream, file=path.name, required=REQUIRED, share=(0, shares))
        yield from itertools.islice(read, (rows + shares - 1) // shares)


def _parser() -> LeadRowParser:
    errors = ErrorCollector(file="bench")
    return LeadRowParser(default_channel=None, secret=SECRET, errors=errors,
                         cipher=MobileCipher(KEY))  # fmt: skip


def _per_row(label: str, count: int, action: Callable[[], Any], repeat: int = 3) -> None:
    """The least process CPU of `repeat` runs (other processes on the cores inflate some)."""
    spent = []
    for _ in range(repeat):
        started = time.process_time()
        action()
        spent.append(time.process_time() - started)
    seconds = min(spent)
    print(f"{label:<34} {seconds / count * 1e6:6.2f} us/row  ({count} rows, least of {repeat})")


def main() -> None:
    options = argparse.ArgumentParser(description=__doc__)
    options.add_argument("csv", type=Path)
    options.add_argument("--rows", type=int, default=400_000)
    options.add_argument("--shares", type=int, default=2)
    args = options.parse_args()
    print(f"code: {Path(parallel_stage.__file__).parent.parent.parent}")
    path, rows, shares = args.csv, args.rows, args.shares
    parser = _parser()
    parser.parse(next(_rows(path, rows=1, shares=1)))  # warm the location tables
    mine = list(_rows(path, rows=rows, shares=shares))
    count = len(mine)

    def read() -> None:
        for _row in _rows(path, rows=rows, shares=shares):
            pass

    def checks() -> None:
        for row in _rows(path, rows=rows, shares=shares):
            parser.parse(row)

    def worker() -> None:
        line_of = _line_of(parser)
        for row in _rows(path, rows=rows, shares=shares):
            line_of(row)

    _per_row("reading", count, read)
    _per_row("reading + row checks", count, checks)
    _per_row("reading + checks + COPY text", count, worker)
    _pieces(mine)


def _line_of(parser: LeadRowParser) -> Callable[[CsvRow], str | None]:
    """What a worker does to one of its rows (also on main, before `StageLines`)."""
    try:
        from app.leads.stage_lines import StageLines
    except ImportError:
        copy_line = parallel_stage.copy_line  # type: ignore[attr-defined]
        return lambda row: None if (s := parser.parse(row)) is None else copy_line(s)
    return StageLines(parser)


def _copy_line() -> Callable[[tuple[Any, ...]], str]:
    try:
        from app.leads.stage_lines import copy_line
    except ImportError:
        return parallel_stage.copy_line  # type: ignore[attr-defined,no-any-return]
    return copy_line


def _pieces(mine: list[CsvRow]) -> None:
    count = len(mine)
    parser = _parser()
    staged = [s for s in map(parser.parse, mine) if s is not None]
    mobiles = [row.get("mobile") for row in mine if row.get("mobile")]
    cipher = MobileCipher(KEY)
    _per_row("  row checks alone", count, lambda: list(map(parser.parse, mine)))
    _per_row("  worker's row alone (no reading)", count, lambda: list(map(_line_of(parser), mine)))
    _per_row("  customer key (per mobile)", len(mobiles),
             lambda: [customer_key(m, secret=SECRET) for m in mobiles])  # fmt: skip
    _per_row("  sealing (per mobile)", len(mobiles), lambda: list(map(cipher.seal, mobiles)))
    _per_row("  COPY text of a staged row", len(staged), lambda: list(map(_copy_line(), staged)))
    located = [(row.get("region_code") or None, normalise_mobile(row.get("mobile")) or None)
               for row in mine if not row.get("lat")]  # fmt: skip
    _per_row("  location without coordinates", len(located),
             lambda: [resolve_location(region_code=r, mobile=m) for r, m in located])  # fmt: skip
    instants = [row.get("acquired_at") for row in mine if row.get("acquired_at")]
    _per_row("  instant: parse", len(instants), lambda: list(map(parse_instant, instants)))
    parsed = list(map(parse_instant, instants))
    _per_row("  instant: UTC text", len(parsed),
             lambda: [p.astimezone(UTC).isoformat() for p in parsed])  # fmt: skip
    try:
        from app.leads.stage_lines import instant_text
    except ImportError:
        return
    pairs = list(zip(instants, parsed, strict=True))
    _per_row("  instant: text as staged", len(pairs), lambda: [instant_text(*p) for p in pairs])


if __name__ == "__main__":
    main()

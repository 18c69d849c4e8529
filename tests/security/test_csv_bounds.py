"""Hostile CSV is refused early and cheaply (issue 13, finding 9).

A header of 60,000 columns took 48 s (a quadratic duplicate check) and 200 MB of garbage under
a valid header took 1.5 GB in `o2o allocate`. Now a header has at most MAX_COLUMNS columns, a
line at most MAX_LINE_CHARS characters, and the readers stream: each test shows the reader
stopped near the start of a large input, not how long it took.
"""

from __future__ import annotations

import io
import random
import string
import tracemalloc
from pathlib import Path

import pytest

from allocation.errors import InputFileError
from allocation_files import reading as csv_reading
from allocation_files.reading import MAX_COLUMNS, MAX_LINE_CHARS, read_columns
from app.errors import FileRejected
from app.imports.csvfile import read_rows

WIDE_HEADER = ",".join(f"c{k}" for k in range(60_000)) + "\n"
LEADS = {"required": ("external_id",), "optional": ("lat", "lon", "tier", "mobile")}


def consume(stream: io.StringIO) -> None:
    for _row in read_rows(stream, file="wide.csv", required=("event_id",)):
        pass


def test_an_import_with_a_60000_column_header_is_refused_at_line_1() -> None:
    stream = io.StringIO(WIDE_HEADER + "x\n" * 100_000)
    with pytest.raises(FileRejected) as rejected:
        consume(stream)
    [error] = rejected.value.errors
    assert (error.file, error.line) == ("wide.csv", 1)
    assert error.reason == f"line longer than {MAX_LINE_CHARS} characters; is this a CSV file?"
    assert stream.tell() <= MAX_LINE_CHARS + 1  # not even the whole header was read


def test_an_import_with_more_columns_than_the_limit_is_refused_naming_it() -> None:
    header = ",".join(f"c{k}" for k in range(MAX_COLUMNS + 1)) + "\n"
    stream = io.StringIO(header + "x\n" * 100_000)
    with pytest.raises(FileRejected) as rejected:
        consume(stream)
    [error] = rejected.value.errors
    assert (error.file, error.line) == ("wide.csv", 1)
    assert error.reason == f"{MAX_COLUMNS + 1} columns in the header; at most {MAX_COLUMNS}"
    assert stream.tell() <= len(header) + 2  # not a data row past the first was parsed


def test_an_import_with_an_overlong_line_stops_there() -> None:
    text = "event_id,amount\nE1,1\n" + "," * 10_000_000 + "\nE2,2\n"
    stream = io.StringIO(text)
    with pytest.raises(FileRejected) as rejected:
        consume(stream)
    [error] = rejected.value.errors
    assert error.line == 3
    assert f"line longer than {MAX_LINE_CHARS} characters" in error.reason
    assert stream.tell() < 2 * MAX_LINE_CHARS  # of a 10 MB line


def test_an_import_header_with_a_repeated_column_is_still_named() -> None:
    with pytest.raises(FileRejected) as rejected:
        consume(io.StringIO("event_id,amount,amount\nE1,1,1\n"))
    assert [(e.column, e.reason) for e in rejected.value.errors] == [
        ("amount", "column appears more than once")
    ]


def test_allocate_refuses_a_60000_column_header(tmp_path: Path) -> None:
    path = tmp_path / "leads.csv"
    path.write_text("external_id," + WIDE_HEADER + "a1\n", encoding="utf-8")
    with pytest.raises(InputFileError, match=r"leads.csv:1: line longer than 65536 characters"):
        read_columns(path, **LEADS)
    path.write_text("external_id," + WIDE_HEADER[:2000].rsplit(",", 1)[0] + "\na1\n")
    with pytest.raises(InputFileError, match=r"leads.csv:1: \d+ columns in the header; at most"):
        read_columns(path, **LEADS)


def garbage_file(path: Path, megabytes: int) -> None:
    """A valid header, then lines of random text (no commas) for `megabytes` MB."""
    rng = random.Random(13)
    line = "".join(rng.choices(string.ascii_letters + " ;|", k=199)) + "\n"
    with path.open("w", encoding="utf-8") as stream:
        stream.write("external_id,lat,lon\n")
        for _ in range(megabytes * 1024 * 1024 // len(line)):
            stream.write(line)


def test_allocate_rejects_garbage_under_a_valid_header_without_reading_it_all(
    tmp_path: Path,
) -> None:
    path = tmp_path / "leads.csv"
    garbage_file(path, megabytes=32)
    tracemalloc.start()
    try:
        with pytest.raises(InputFileError, match=r"leads.csv:2: 1 fields, the header has 3"):
            read_columns(path, **LEADS)
        _current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    print(f"\nmetric=allocate_garbage_peak_traced_mib value={peak / 2**20:.1f} threshold=16")
    assert peak < 16 * 2**20  # of a 32 MB file: it stopped at the first bad line


def test_allocate_refuses_an_overlong_line_naming_it(tmp_path: Path) -> None:
    path = tmp_path / "leads.csv"
    path.write_text("external_id,lat\na1,1\n" + "x" * (MAX_LINE_CHARS + 1) + "\n")
    with pytest.raises(InputFileError, match=r"leads.csv:3: line longer than 65536 characters"):
        read_columns(path, **LEADS)


def test_the_plain_scan_carries_lines_and_commas_across_blocks(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "leads.csv"
    rows = "".join(f"id{i},{30 + i / 1000},{120 + i / 1000},t{i % 3}\n" for i in range(300))
    path.write_text("external_id,lat,lon,tier\n" + rows, encoding="utf-8")
    exact = read_columns(path, **LEADS)
    monkeypatch.setattr(csv_reading, "PLAIN_MIN_BYTES", 0)
    monkeypatch.setattr(csv_reading, "_SCAN_BLOCK", 7)  # lines span several blocks
    fast = csv_reading._read_plain(path, file=path.name, **LEADS)
    assert fast == exact
    path.write_text("external_id,lat,lon,tier\n" + rows + "id,1,2\n", encoding="utf-8")
    assert csv_reading._read_plain(path, file=path.name, **LEADS) is None  # a short last row

"""Low-level CSV reading for `o2o allocate`: header mapping, rows, exact error locations.

Every error names the file, the physical line where the record ends (csv's line_num, which
stays right with quoted newlines) and the column.
"""

from __future__ import annotations

import csv
import math
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from allocation.errors import InputFileError

FloatArray = NDArray[np.float64]
PLAIN_MIN_BYTES = 1 << 20  # small files always take the exact csv-module path
# Input files are tables of a few dozen columns: far more, or a very long line, is not one of
# ours (or is an attack), and is refused before it costs much time or memory.
MAX_COLUMNS = 256
MAX_LINE_CHARS = 64 * 1024
_SCAN_BLOCK = 1 << 20


@dataclass(frozen=True)
class Columns:
    """The wanted columns of a file (missing optional ones are None) and each row's line."""

    file: str
    values: dict[str, list[str] | None]
    lines: list[int]

    def error(self, *, row: int | None, column: str | None, message: str) -> InputFileError:
        line = 1 if row is None else self.lines[row]
        return InputFileError(file=self.file, line=line, column=column, message=message)

    def get(self, name: str) -> list[str] | None:
        return self.values[name]

    def required(self, name: str) -> list[str]:
        column = self.values[name]
        assert column is not None
        return column

    def __len__(self) -> int:
        return len(self.lines)


def read_columns(path: Path, *, required: Sequence[str], optional: Sequence[str]) -> Columns:
    """Read the named columns of a UTF-8 CSV (BOM accepted); unknown columns are ignored."""
    name = path.name
    fast = _read_plain(path, file=name, required=required, optional=optional)
    if fast is not None:
        return fast
    try:
        with path.open(encoding="utf-8-sig", newline="") as handle:
            return _read(handle, file=name, required=required, optional=optional)
    except UnicodeDecodeError as exc:
        raise InputFileError(
            file=name, line=None, column=None, message=f"not UTF-8 text ({exc.reason})"
        ) from exc
    except csv.Error as exc:
        raise InputFileError(file=name, line=None, column=None, message=str(exc)) from exc
    except OSError as exc:
        raise InputFileError(
            file=name, line=None, column=None, message=f"cannot read: {exc.strerror}"
        ) from exc


def _read_plain(
    path: Path, *, file: str, required: Sequence[str], optional: Sequence[str]
) -> Columns | None:
    """Fast path for big, plain files (pandas' C parser): no quotes, no blank lines, so
    record k is on line k + 2. Anything unusual returns None and takes the csv-module path,
    which reports errors exactly. The file is scanned in blocks first, never held whole."""
    try:
        if path.stat().st_size < PLAIN_MIN_BYTES:
            return None
        newlines = _plain_newlines(path)
        if newlines is None:
            return None
        with path.open(encoding="utf-8-sig", newline="") as handle:
            header = [h.strip() for h in handle.readline().rstrip("\n").split(",")]
    except (OSError, UnicodeDecodeError):
        return None
    import pandas as pd

    index = _header_index(header=header, file=file, required=required)
    wanted = [c for c in (*required, *optional) if c in index]
    try:
        frame = pd.read_csv(
            path,
            encoding="utf-8-sig",
            dtype=str,
            keep_default_na=False,
            usecols=[index[c] for c in wanted],
            header=0,
            names=header,
            engine="c",
        )
    except (UnicodeDecodeError, ValueError, pd.errors.ParserError):
        return None
    if frame.shape[0] != newlines - 1 or frame.isna().to_numpy().any():
        return None
    values: dict[str, list[str] | None] = dict.fromkeys((*required, *optional))
    for column in wanted:
        values[column] = [str(v) for v in frame[column].tolist()]
    return Columns(file=file, values=values, lines=list(range(2, frame.shape[0] + 2)))


def _plain_newlines(path: Path) -> int | None:
    """Lines of a plain file, or None when it is not plain: a quote, CR, blank or overlong
    line, a line with another number of commas than the header, or no final newline.

    Reads 1 MiB at a time, so a file of garbage is turned away after its first block instead
    of being parsed whole (the pandas path only sees files of the header's shape).
    """
    scan = _PlainScan()
    with path.open("rb") as stream:
        while block := stream.read(_SCAN_BLOCK):
            if not scan.feed(block):
                return None
    return scan.newlines if scan.last_byte == b"\n" else None


class _PlainScan:
    """Line lengths and commas per line, carried across blocks."""

    def __init__(self) -> None:
        self.newlines = 0
        self.offset = 0  # bytes fed so far
        self.line_start = 0  # offset where the current line began
        self.carried_commas = 0  # commas of the current line in earlier blocks
        self.header_commas: int | None = None
        self.last_byte = b"\n"

    def feed(self, block: bytes) -> bool:
        if b'"' in block or b"\r" in block or b"\n\n" in self.last_byte + block:
            return False
        data = np.frombuffer(block, dtype=np.uint8)
        ends = np.flatnonzero(data == 10)
        commas = np.cumsum(data == 44, dtype=np.int32)
        per_line = np.diff(commas[ends], prepend=0)
        if ends.size:
            per_line[0] += self.carried_commas
            lengths = np.diff(ends + self.offset, prepend=self.line_start - 1) - 1
            if int(lengths.max()) > MAX_LINE_CHARS:
                return False  # the exact path names it (it counts characters, not bytes)
            if self.header_commas is None:
                self.header_commas = int(per_line[0])
            if np.any(per_line != self.header_commas):
                return False
            self.line_start = int(ends[-1]) + self.offset + 1
            self.carried_commas = int(commas[-1] - commas[ends[-1]])
        else:
            self.carried_commas += int(commas[-1])
        self.newlines += int(ends.size)
        self.offset += len(block)
        self.last_byte = block[-1:]
        return self.offset - self.line_start <= MAX_LINE_CHARS


def _read(
    handle: object, *, file: str, required: Sequence[str], optional: Sequence[str]
) -> Columns:
    """Stream the records, keeping only the wanted cells; stop at the first short record."""
    reader = csv.reader(_bounded_lines(handle, file=file))
    header = next(reader, None)
    if header is None:
        raise InputFileError(file=file, line=1, column=None, message="empty file, no header")
    index = _header_index(header=[h.strip() for h in header], file=file, required=required)
    wanted = [c for c in (*required, *optional) if c in index]
    at = [index[c] for c in wanted]
    width = max(at) + 1
    cells: list[list[str]] = [[] for _ in wanted]
    lines: list[int] = []
    for row in reader:
        if not row or row == [""]:
            continue  # blank lines are skipped
        # Short rows miss a wanted value; long rows have values no column names (shifted).
        if len(row) < width or len(row) > len(header):
            raise InputFileError(
                file=file,
                line=reader.line_num,
                column=None,
                message=f"{len(row)} fields, the header has {len(header)}",
            )
        lines.append(reader.line_num)  # the physical line where the record ends
        for column, k in zip(cells, at, strict=True):
            column.append(row[k])
    values: dict[str, list[str] | None] = dict.fromkeys((*required, *optional))
    values.update(zip(wanted, cells, strict=True))
    return Columns(file=file, values=values, lines=lines)


def _bounded_lines(handle: object, *, file: str) -> Iterator[str]:
    """The handle's lines, refusing one longer than MAX_LINE_CHARS before it is in memory."""
    line_number = 0
    while line := handle.readline(MAX_LINE_CHARS + 1):  # type: ignore[attr-defined]
        line_number += 1
        if len(line) > MAX_LINE_CHARS:
            raise _too_long(file, line_number)
        yield line


def _too_long(file: str, line: int) -> InputFileError:
    message = f"line longer than {MAX_LINE_CHARS} characters; is this a CSV file?"
    return InputFileError(file=file, line=line, column=None, message=message)


def _header_index(*, header: list[str], file: str, required: Sequence[str]) -> dict[str, int]:
    if len(header) > MAX_COLUMNS:
        message = f"{len(header)} columns in the header; at most {MAX_COLUMNS}"
        raise InputFileError(file=file, line=1, column=None, message=message)
    index: dict[str, int] = {}
    for k, name in enumerate(header):
        if name in index:
            raise InputFileError(file=file, line=1, column=name, message="duplicate column")
        index[name] = k
    for name in required:
        if name not in index:
            raise InputFileError(file=file, line=1, column=name, message="required column missing")
    return index


def numbers(columns: Columns, name: str, *, allow_empty: bool) -> FloatArray:
    """Column -> float64 (NaN for empty cells when allowed); rejects text, nan and inf."""
    raw = columns.get(name)
    if raw is None:
        return np.full(len(columns), np.nan)
    text = np.array(raw, dtype=np.str_) if raw else np.zeros(0, np.str_)
    empty = text == ""  # surrounding blanks are accepted by the conversion itself
    try:
        value = np.where(empty, "nan", text).astype(np.float64)
    except ValueError:
        value = _first_bad(columns=columns, name=name, text=text, empty=empty)
    bad = ~empty & ~np.isfinite(value)
    if np.any(bad):
        k = int(np.flatnonzero(bad)[0])
        raise columns.error(row=k, column=name, message=f"{raw[k]!r} is not a finite number")
    if not allow_empty and np.any(empty):
        k = int(np.flatnonzero(empty)[0])
        raise columns.error(row=k, column=name, message="value required")
    return value


def _first_bad(
    *, columns: Columns, name: str, text: NDArray[np.str_], empty: NDArray[np.bool_]
) -> FloatArray:
    for k, cell in enumerate(text.tolist()):
        if not empty[k]:
            try:
                float(cell)
            except ValueError:
                raise columns.error(
                    row=k, column=name, message=f"{cell!r} is not a number"
                ) from None
    raise AssertionError("unreachable: a cell failed to convert")


MAX_COUNT = 10**9  # capacities and workloads above this are typos, and int64 stays far away


def integers(
    columns: Columns, name: str, *, minimum: int, maximum: int = MAX_COUNT
) -> NDArray[np.int64]:
    """Column of required integers in [minimum, maximum] ('3.0' is not an integer)."""
    value = numbers(columns, name, allow_empty=False)
    raw = columns.required(name)
    for k in np.flatnonzero((value != np.round(value)) | (value < minimum)).tolist()[:1]:
        raise columns.error(
            row=k, column=name, message=f"{raw[k]!r} is not an integer >= {minimum}"
        )
    for k in np.flatnonzero(value > maximum).tolist()[:1]:
        raise columns.error(
            row=k, column=name, message=f"{raw[k]!r} is too large (at most {maximum})"
        )
    text_ok = [k for k, cell in enumerate(raw) if not cell.strip().lstrip("+-").isdigit()]
    if text_ok:
        k = text_ok[0]
        raise columns.error(row=k, column=name, message=f"{raw[k]!r} is not an integer")
    return value.astype(np.int64)


def check_each(columns: Columns, name: str, test: Callable[[str], bool], message: str) -> None:
    """Raise at the first non-empty cell of the column that fails `test`.

    Each distinct value is tested once (region codes, tiers and flags repeat a lot).
    """
    raw = columns.get(name)
    if raw is None:
        return
    bad = {cell for cell in set(raw) if cell and not test(cell)}
    if bad:
        k = next(k for k, cell in enumerate(raw) if cell in bad)
        raise columns.error(row=k, column=name, message=f"{raw[k]!r}: {message}")


def first_duplicate(values: Sequence[str]) -> int | None:
    if len(set(values)) == len(values):
        return None
    seen: set[str] = set()
    for k, value in enumerate(values):
        if value in seen:
            return k
        seen.add(value)
    return None


def is_region_code(cell: str) -> bool:
    """A 6-digit GB/T 2260 code, or a 12-digit statistical code (whose first 6 are one)."""
    code = cell.strip()
    return len(code) in (6, 12) and code.isascii() and code.isdigit()


def is_finite(cell: str) -> bool:
    try:
        return math.isfinite(float(cell))
    except ValueError:
        return False

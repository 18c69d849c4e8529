"""Low-level CSV reading for `o2o allocate`: header mapping, rows, exact error locations.

Every error names the file, the physical line where the record ends (csv's line_num, which
stays right with quoted newlines) and the column.
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from allocation.errors import InputFileError

FloatArray = NDArray[np.float64]
PLAIN_MIN_BYTES = 1 << 20  # small files always take the exact csv-module path


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
    which reports errors exactly."""
    try:
        if path.stat().st_size < PLAIN_MIN_BYTES:
            return None
        data = path.read_bytes()
    except OSError:
        return None
    if b'"' in data or b"\n\n" in data or b"\r" in data or not data.endswith(b"\n"):
        return None
    if not _same_width(data):
        return None  # the exact path names the line with too many or too few fields
    import pandas as pd

    try:
        text = data.decode("utf-8-sig")
        header = [h.strip() for h in text[: text.index("\n")].split(",")]
        index = _header_index(header=header, file=file, required=required)
        wanted = [c for c in (*required, *optional) if c in index]
        frame = pd.read_csv(
            io.StringIO(text),
            dtype=str,
            keep_default_na=False,
            usecols=[index[c] for c in wanted],
            header=0,
            names=header,
            engine="c",
        )
    except (UnicodeDecodeError, ValueError, pd.errors.ParserError):
        return None
    if frame.shape[0] != text.count("\n") - 1 or frame.isna().to_numpy().any():
        return None
    values: dict[str, list[str] | None] = dict.fromkeys((*required, *optional))
    for column in wanted:
        values[column] = [str(v) for v in frame[column].tolist()]
    return Columns(file=file, values=values, lines=list(range(2, frame.shape[0] + 2)))


def _same_width(data: bytes) -> bool:
    """Every line (no quotes here) has as many commas as the header."""
    raw = np.frombuffer(data, np.uint8)
    commas = np.cumsum(raw == ord(","))
    ends = np.flatnonzero(raw == ord("\n"))
    per_line = np.diff(np.r_[0, commas[ends]])
    return bool(np.all(per_line == per_line[0]))


def _read(
    handle: object, *, file: str, required: Sequence[str], optional: Sequence[str]
) -> Columns:
    reader = csv.reader(handle)  # type: ignore[arg-type]
    header = next(reader, None)
    if header is None:
        raise InputFileError(file=file, line=1, column=None, message="empty file, no header")
    index = _header_index(header=[h.strip() for h in header], file=file, required=required)
    rows = list(reader)
    lines = _record_lines(handle=handle, rows=rows, physical=reader.line_num)
    keep = [k for k, row in enumerate(rows) if row and row != [""]]  # blank lines are skipped
    if len(keep) < len(rows):
        rows, lines = [rows[k] for k in keep], [lines[k] for k in keep]
    wanted = [c for c in (*required, *optional) if c in index]
    width = max(index[c] for c in wanted) + 1
    # Short rows miss a wanted value; long rows have values no column names (a shifted row).
    bad = next(
        (k for k, row in enumerate(rows) if len(row) < width or len(row) > len(header)), None
    )
    if bad is not None:
        raise InputFileError(
            file=file,
            line=lines[bad],
            column=None,
            message=f"{len(rows[bad])} fields, the header has {len(header)}",
        )
    values: dict[str, list[str] | None] = dict.fromkeys((*required, *optional))
    for column in wanted:
        at = index[column]
        values[column] = [row[at] for row in rows]
    return Columns(file=file, values=values, lines=lines)


def _record_lines(*, handle: object, rows: list[list[str]], physical: int) -> list[int]:
    """Physical line on which each record ends (header = line 1).

    Without quoted line breaks record k sits on line k + 2; otherwise re-read with tracking.
    """
    if physical == len(rows) + 1:
        return list(range(2, len(rows) + 2))
    handle.seek(0)  # type: ignore[attr-defined]
    reader = csv.reader(handle)  # type: ignore[arg-type]
    next(reader)
    return [reader.line_num for _ in reader]


def _header_index(*, header: list[str], file: str, required: Sequence[str]) -> dict[str, int]:
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

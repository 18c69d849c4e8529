"""Which text encoding a CSV file is in: declared, or detected by decoding every byte first.

Chinese Excel saves "CSV" as GBK (code page 936) and "CSV UTF-8" with a BOM; other tools write
UTF-8 without one. GBK is a subset of GB18030, so one codec reads both. Detection is exact, not
a guess from the first kilobytes: the whole file is decoded as UTF-8 (a few hundred MB/s in C,
well under a second for the largest import), and only a file that is not UTF-8 is tried as
GB18030. The same pass finds the first undecodable byte of a declared encoding, so the error
names its line and its byte in that line instead of wherever a read buffer happened to end.

Lines are cut at b"\\n" before decoding: in neither encoding can that byte be part of a
multi-byte character, so a cut never splits one.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from allocation_files.reading import MAX_LINE_CHARS
from app.errors import FileRejected, RowError

Encoding = Literal["auto", "utf-8", "gb18030"]
ENCODINGS: tuple[Encoding, ...] = ("auto", "utf-8", "gb18030")
# What people type for the same thing; GBK and GB2312 files are GB18030 files.
ALIASES: dict[str, Encoding] = {"utf8": "utf-8", "utf-8-sig": "utf-8", "gbk": "gb18030",
                                "gb2312": "gb18030", "cp936": "gb18030"}  # fmt: skip
CODECS = {"utf-8": "utf-8-sig", "gb18030": "gb18030"}  # utf-8-sig: a BOM is accepted and dropped
NAMES = {"utf-8": "UTF-8", "gb18030": "GB18030/GBK"}
CHUNK_BYTES = 1 << 20
# No character takes more than 4 bytes in either encoding: past this a line is surely too long.
MAX_LINE_BYTES = 4 * MAX_LINE_CHARS


def parse_encoding(value: str) -> Encoding:
    """The declared encoding, from a command-line option or a form field."""
    lowered = value.strip().lower()
    if lowered in ENCODINGS:
        return lowered
    if lowered in ALIASES:
        return ALIASES[lowered]
    raise ValueError(f"unknown encoding '{value}'; use one of {', '.join(ENCODINGS)} (or gbk)")


@dataclass(frozen=True, slots=True)
class Undecodable:
    """The first byte that is not text in an encoding, located for a person with an editor."""

    line: int  # 1-based, counting every b"\n" (the csv module's line numbers)
    byte_in_line: int  # 1-based
    byte: int
    offset: int  # from the start of the file

    def describe(self) -> str:
        return f"byte 0x{self.byte:02X} at byte {self.byte_in_line} of the line"


def resolve_encoding(path: Path, *, declared: Encoding, file: str) -> Literal["utf-8", "gb18030"]:
    """The encoding to read `path` with; raises FileRejected at the first undecodable byte."""
    if declared != "auto":
        failure = first_undecodable(path, declared, file=file)
        if failure is not None:
            raise _rejected(file, failure, _declared_reason(declared, failure))
        return declared
    as_utf8 = first_undecodable(path, "utf-8", file=file)
    if as_utf8 is None:
        return "utf-8"
    as_gb18030 = first_undecodable(path, "gb18030", file=file)
    if as_gb18030 is None:
        return "gb18030"
    # The encoding that read further is the one the file was most likely meant to be in.
    failure = max(as_utf8, as_gb18030, key=lambda found: found.offset)
    reason = (
        f"neither UTF-8 nor GB18030/GBK text ({failure.describe()}); "
        "save it again as CSV UTF-8 or as an Excel workbook (.xlsx)"
    )
    raise _rejected(file, failure, reason)


def first_undecodable(path: Path, encoding: str, *, file: str) -> Undecodable | None:
    """Where `path` stops being text in `encoding`, or None when every byte decodes."""
    line, offset, carry = 1, 0, b""
    with path.open("rb") as handle:
        while chunk := handle.read(CHUNK_BYTES):
            data = carry + chunk
            cut = data.rfind(b"\n") + 1
            whole, carry = data[:cut], data[cut:]
            failure = _check(whole, encoding, line=line, offset=offset)
            if failure is not None:
                return failure
            line, offset = line + whole.count(b"\n"), offset + len(whole)
            if len(carry) > MAX_LINE_BYTES:
                reason = f"line longer than {MAX_LINE_CHARS} characters; is this a CSV file?"
                raise FileRejected(
                    file=file, errors=[RowError(file, line, "*", reason)], total_errors=1
                )
    return _check(carry, encoding, line=line, offset=offset)


def _check(data: bytes, encoding: str, *, line: int, offset: int) -> Undecodable | None:
    try:
        data.decode(encoding)
    except UnicodeDecodeError as exc:
        line_start = data.rfind(b"\n", 0, exc.start) + 1
        return Undecodable(
            line=line + data.count(b"\n", 0, exc.start),
            byte_in_line=exc.start - line_start + 1,
            byte=data[exc.start],
            offset=offset + exc.start,
        )
    return None


def _declared_reason(declared: str, failure: Undecodable) -> str:
    other = "gb18030" if declared == "utf-8" else "utf-8"
    return (
        f"not {NAMES[declared]} text ({failure.describe()}); "
        f"if the file is {NAMES[other]}, declare encoding {other} or auto"
    )


def _rejected(file: str, failure: Undecodable, reason: str) -> FileRejected:
    error = RowError(file, failure.line, "*", reason)
    return FileRejected(file=file, errors=[error], total_errors=1)

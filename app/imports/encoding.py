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
from coded_messages import Message, message

Encoding = Literal["auto", "utf-8", "gb18030"]
ENCODINGS: tuple[Encoding, ...] = ("auto", "utf-8", "gb18030")
# What people type for the same thing; GBK and GB2312 files are GB18030 files.
ALIASES: dict[str, Encoding] = {"utf8": "utf-8", "utf-8-sig": "utf-8", "gbk": "gb18030",
                                "gb2312": "gb18030", "cp936": "gb18030"}  # fmt: skip
CODECS = {"utf-8": "utf-8-sig", "gb18030": "gb18030"}  # utf-8-sig: a BOM is accepted and dropped
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

    def where(self) -> dict[str, str | int]:
        """The byte and its place in the line, as a message's values."""
        return {"byte": f"0x{self.byte:02X}", "position": self.byte_in_line}


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
    raise _rejected(file, failure, message("import.undecodable", **failure.where()))


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
                too_long = message("import.line_too_long", max=MAX_LINE_CHARS)
                raise FileRejected(
                    file=file, errors=[RowError.of(file, line, "*", too_long)], total_errors=1
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


def _declared_reason(declared: str, failure: Undecodable) -> Message:
    code = "import.not_utf8_bytes" if declared == "utf-8" else "import.not_gb18030_bytes"
    return message(code, **failure.where())


def _rejected(file: str, failure: Undecodable, reason: Message) -> FileRejected:
    error = RowError.of(file, failure.line, "*", reason)
    return FileRejected(file=file, errors=[error], total_errors=1)

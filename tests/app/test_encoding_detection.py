"""Encoding detection decodes every byte and locates the first bad one exactly (no database)."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.errors import FileRejected
from app.imports.encoding import (
    CHUNK_BYTES,
    first_undecodable,
    parse_encoding,
    resolve_encoding,
)


def _file(tmp_path: Path, data: bytes) -> Path:
    path = tmp_path / "f.csv"
    path.write_bytes(data)
    return path


def test_a_bad_byte_past_the_first_chunks_is_located_at_its_exact_line_and_byte(
    tmp_path: Path,
) -> None:
    filler = b"external_id,name\n" + b"A123456789,abcdefghij\n" * (3 * CHUNK_BYTES // 22)
    lines_before = filler.count(b"\n")
    path = _file(tmp_path, filler + "X1,张三\n".encode("gbk") + b"Z,z\n")
    found = first_undecodable(path, "utf-8", file="f.csv")
    assert found is not None
    assert (found.line, found.byte_in_line, found.byte) == (lines_before + 1, 4, 0xD5)
    assert found.offset == len(filler) + 3


def _ends_one_byte_before_the_first_chunk() -> bytes:
    head = b"h\n" * ((CHUNK_BYTES - 1) // 2) + b"a"
    assert len(head) == CHUNK_BYTES - 1
    return head


def test_a_character_across_a_chunk_boundary_is_not_mistaken_for_a_bad_byte(
    tmp_path: Path,
) -> None:
    head = _ends_one_byte_before_the_first_chunk()  # the next character's first byte ends it
    path = _file(tmp_path, head + "张三李四\n".encode() * 3)
    assert first_undecodable(path, "utf-8", file="f.csv") is None
    assert resolve_encoding(path, declared="auto", file="f.csv") == "utf-8"


def test_a_gbk_character_across_a_chunk_boundary_is_read_as_gb18030(tmp_path: Path) -> None:
    head = _ends_one_byte_before_the_first_chunk()
    path = _file(tmp_path, head + "张三李四\n".encode("gbk"))
    assert resolve_encoding(path, declared="auto", file="f.csv") == "gb18030"


def test_an_ascii_file_is_utf8_and_an_empty_one_too(tmp_path: Path) -> None:
    assert resolve_encoding(_file(tmp_path, b"a,b\n1,2"), declared="auto", file="f") == "utf-8"
    assert resolve_encoding(_file(tmp_path, b""), declared="auto", file="f") == "utf-8"


def test_a_line_without_end_is_refused_before_it_is_all_in_memory(tmp_path: Path) -> None:
    path = _file(tmp_path, b"a,b\n" + b"," * (3 * CHUNK_BYTES) + b"\n")  # beyond a chunk
    with pytest.raises(FileRejected) as caught:
        first_undecodable(path, "utf-8", file="wide.csv")
    [error] = caught.value.errors
    assert (error.file, error.line) == ("wide.csv", 2)
    assert error.reason.startswith("line longer than")


def test_the_failure_reported_for_neither_encoding_is_the_one_that_read_further(
    tmp_path: Path,
) -> None:
    # UTF-8 text with one stray 0xFF on line 3: GB18030 fails at once on line 2 (its UTF-8
    # Chinese is not valid GB18030 here), UTF-8 reads on to line 3.
    data = "a,b\n1,张三\n".encode() + b"2,\xff\n"
    with pytest.raises(FileRejected) as caught:
        resolve_encoding(_file(tmp_path, data), declared="auto", file="f.csv")
    [error] = caught.value.errors
    assert error.line == 3
    assert "byte 0xFF at byte 3 of the line" in error.reason


@pytest.mark.parametrize(
    ("typed", "meant"),
    [("AUTO", "auto"), ("utf8", "utf-8"), ("UTF-8-SIG", "utf-8"), ("GBK", "gb18030"),
     ("gb2312", "gb18030"), ("cp936", "gb18030"), (" gb18030 ", "gb18030")],
)  # fmt: skip
def test_encodings_are_understood_as_people_type_them(typed: str, meant: str) -> None:
    assert parse_encoding(typed) == meant


def test_an_unknown_encoding_is_refused_listing_the_known_ones() -> None:
    with pytest.raises(ValueError, match="use one of auto, utf-8, gb18030"):
        parse_encoding("big5")

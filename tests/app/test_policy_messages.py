"""Split-policy refusals are codes: the API and the CLI keep the English they always gave (the
strings below are the wording before the codes), the pages say the same codes in Chinese."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from app.errors import FileRejected, RowError
from app.imports.csvfile import ErrorCollector
from app.journal.policies.policy_file import read_policy_file
from app.web.messages import in_chinese
from tests.app.factories import write

BAD_ROWS = (
    "policy_id,revenue_type,valid_from,branch_bps,hq_online_bps,overlay_bps,reason\n"
    "P1,product_fee,2026-12-01,7000,3000,,\n"
    "P2,bonus,2026-12-01,7000,3000,,\n"
    "P3,product_fee,next month,7000,3000,,\n"
    "P4,advisory_fee,2026-12-01,70.5,3000,,\n"
    "P5,other,2026-12-01,7000,3000,-1,\n"
    ",other,2026-12-01,10001,3000,,\n"
    " P7,other,,7000,3000,,\x07\n"
)
BAD_JSON = json.dumps([{"policy_id": 5, "revenue_type": "other", "valid_from": "2026-12-01",
                        "branch_bps": True, "hq_online_bps": 3000, "overlay_bps": 1.5,
                        "reason": "x" * 301}])  # fmt: skip
ENGLISH_BEFORE = {
    "p.csv": [
        "p.csv:3: column 'revenue_type': unknown revenue type 'bonus' (expected one of "
        "brokerage_commission, product_fee, margin_interest, advisory_fee, other)",
        "p.csv:4: column 'valid_from': invalid ISO 8601 timestamp 'next month'",
        "p.csv:5: column 'branch_bps': '70.5' is not a whole number of basis points (0 to 10000)",
        "p.csv:6: column 'overlay_bps': '-1' is not a whole non-negative number of basis points",
        "p.csv:7: column 'policy_id': required field is missing",
        "p.csv:7: column 'branch_bps': 10001 bp is more than 10000 bp (100%)",
        "p.csv:8: column 'valid_from': required field is missing",
        "p.csv:8: column 'reason': must be printable text of at most 300 characters",
    ],
    "a.json": [
        "a.json:1: column '*': not a UTF-8 JSON document (Expecting property name enclosed in "
        "double quotes: line 1 column 2 (char 1))"
    ],
    "b.json": ["b.json:1: column '*': each policy must be a JSON object"],
    "c.json": ["c.json:1: column '*': the file holds no policy"],
    "d.txt": ["d.txt:1: column '*': policy file must end in .json or .csv"],
    "e.json": [
        "e.json:1: column 'policy_id': must be text",
        "e.json:1: column 'branch_bps': must be a whole number of basis points",
        "e.json:1: column 'overlay_bps': must be a whole number of basis points",
        "e.json:1: column 'reason': must be printable text of at most 300 characters",
    ],
}
BODIES = {"p.csv": BAD_ROWS, "a.json": "{not json", "b.json": "[1]", "c.json": "[]", "d.txt": "x",
          "e.json": BAD_JSON}  # fmt: skip


def _errors(tmp_path: Path, name: str) -> list[RowError]:
    errors = ErrorCollector(file=name)
    try:
        read_policy_file(write(tmp_path, name, BODIES[name]), errors=errors)
    except FileRejected as exc:
        return exc.errors
    return errors.errors


@pytest.mark.parametrize("name", sorted(ENGLISH_BEFORE))
def test_every_policy_file_error_keeps_its_english_and_has_chinese(
    tmp_path: Path, name: str
) -> None:
    found = _errors(tmp_path, name)
    assert [str(e) for e in found] == ENGLISH_BEFORE[name]
    for error in found:
        assert error.said is not None, error
        assert not in_chinese(error.said).isascii(), error


def test_the_pages_say_a_bad_share_in_chinese(tmp_path: Path) -> None:
    said = [e.said for e in _errors(tmp_path, "p.csv") if e.column == "branch_bps"]
    assert [in_chinese(s) for s in said if s] == [
        "“70.5”不是 0 至 10000 的整数基点", "10001 基点超过 10000 基点（100%）",
    ]  # fmt: skip

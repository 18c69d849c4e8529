"""A parsing worker's fast path writes what the general lead parser stages, line for line, and
leaves every bad row to that parser (`app.leads.stage_lines`)."""

from __future__ import annotations

import hmac
import random
from datetime import UTC

import pytest

from app.imports.csvfile import CsvRow, ErrorCollector
from app.imports.fields import CellError, parse_instant
from app.leads.rows import LeadRowParser, customer_key
from app.leads.stage_lines import StageLines, copy_line, instant_text
from app.privacy.cipher import MobileCipher


def _parses(given: str) -> bool:
    try:
        parse_instant(given)
    except CellError:
        return False
    return True


INSTANTS = [
    "2026-11-29T18:14:48+00:00",
    "2026-11-29T18:14:48",  # Shanghai time
    "2026-11-29 18:14:48+00:00",
    "2026-11-29T18:14:48Z",
    "2026-11-29T18:14:48-00:00",
    "2026-11-29T18:14:48+0000",
    "20261129T181448+0000",
    "2026-W48-1T18:14:48+00:00",  # an ISO week date of the same length
    "2026-333T18:14:48+00:00",
    "2024-02-29T23:59:59+00:00",  # leap day
    "2024-02-29T07:59:59+08:00",
    "2023-02-29T00:00:00+00:00",  # no such day
    "2026-11-29T18:14:48.5+00:00",
    "2026-11-29T18:14:48.123456+08:00",
    "2026-11-29T18:14:48,5+00:00",
    "2026-12-31T23:59:59-05:30",
    "2026-01-01T00:00:00+14:00",
    "2026-11-29T24:00:00+00:00",
    "2026-11-29T23:59:60+00:00",
    "2026-11-29T18:14+00:00",
    "2026-11-29T18+00:00",
    "2026-11-29",
    "2026-11-29T18:14:48+00:00:30",
    "yesterday",
]
# Values each cell takes: mostly good ones, of every form; now and then a bad one.
GOOD = {
    "external_id": ["X1", "e" * 128, "tab\there", "back\\slash", " padded "],
    "channel": ["app", "", "c" * 64, "微信", "line\nbreak"],
    "name": ["张伟", "", "n" * 200, "two\nlines", "cr\rhere", "  "],
    "tier": ["mass", "", "affluent", "hnw", " hnw "],
    "mobile": [
        "13800138000",
        "",
        "13801001234",
        "+86 138-0013-8000",
        "19912345678",
        "１３８００１３８０００",
        "008613800138000",
    ],
    "region_code": ["440304", "", "", "110000"],
    "id_card": ["", "", "31010419900307123X"],
    "lat": ["22.5", "-90", "22.50", "-0.0", "1_0", "1e1"],
    "lon": ["114.06", "-180", "114.0000", "1e2"],
    "acquired_at": ["", *(i for i in INSTANTS if _parses(i))],
    "address": ["", "", "广东省深圳市南山区科技园", "nowhere at all"],
}
BAD = {
    "external_id": ["", "e" * 129],
    "channel": ["c" * 65],
    "name": ["n" * 201],
    "tier": ["vip", "Mass"],
    "mobile": ["12345", "1380013800", "10800138000"],
    "region_code": ["999999", "44030", "440304000000", "４４０３０４"],
    "id_card": ["310104199003071230", "abc"],
    "lat": ["", "91", "nan", "abc"],
    "lon": ["", "181", "-inf"],
    "acquired_at": [i for i in INSTANTS if not _parses(i)],
}


class VisibleCipher(MobileCipher):
    """Seals as `sealed:` + the number, so that the two paths' lines can be compared."""

    def __init__(self) -> None:
        super().__init__(bytes(32))

    def seal(self, mobile: str | None) -> str | None:
        return None if mobile is None else f"sealed:{mobile}"


def _parser(default_channel: str | None) -> LeadRowParser:
    return LeadRowParser(default_channel=default_channel, secret=b"s3cret",
                         errors=ErrorCollector(file="leads.csv"), cipher=VisibleCipher())  # fmt: skip


def _general(parser: LeadRowParser, row: CsvRow) -> str | None:
    staged = parser.parse(row)
    return None if staged is None else copy_line(staged)


def _errors(parser: LeadRowParser) -> list[tuple[int, str, object]]:
    return [(e.line, e.column, e.reason) for e in parser.errors.errors]


def _rows(count: int) -> list[CsvRow]:
    rng = random.Random(18)
    rows = []
    for line in range(2, count + 2):
        values = {column: rng.choice(choices) for column, choices in GOOD.items()}
        for column in rng.sample(sorted(BAD), rng.choice((0, 0, 0, 1, 2))):
            values[column] = rng.choice(BAD[column])
        if rng.random() < 0.3:
            values["lat"] = values["lon"] = ""  # located some other way
        for column in rng.sample(sorted(values), rng.randrange(3)):
            del values[column]  # a column the file does not have
        rows.append(CsvRow(line=line, values=values))
    return rows


@pytest.mark.parametrize("default_channel", [None, "app"])
def test_the_fast_path_writes_and_reports_what_the_general_parser_does(
    default_channel: str | None,
) -> None:
    fast, general = _parser(default_channel), _parser(default_channel)
    lines = StageLines(fast)
    rows = _rows(3000)
    written = [lines(row) for row in rows]
    assert written == [_general(general, row) for row in rows]
    assert _errors(fast) == _errors(general)
    assert fast.errors.total == general.errors.total
    sources = {line.split("\t")[10] for line in written if line is not None}
    assert sources == {"coordinates", "region_code", "mobile_prefix", "id_card", "address", "\\N"}
    assert 0 < written.count(None) < len(rows)


@pytest.mark.parametrize("given", INSTANTS)
def test_the_instant_text_is_the_instant_in_utc(given: str) -> None:
    try:
        parsed = parse_instant(given)
    except CellError:
        return  # the row is bad: its errors come from the general parser
    assert instant_text(given, parsed) == parsed.astimezone(UTC).isoformat()


@pytest.mark.parametrize("secret", [b"", b"k", b"s" * 32, b"s" * 64, b"s" * 65, bytes(range(200))])
def test_the_customer_key_is_the_hmac_of_the_mobile(secret: bytes) -> None:
    for mobile in ("13800138000", "", "电话"):
        expected = hmac.new(secret, mobile.encode(), "sha256").hexdigest()
        assert customer_key(mobile, secret=secret) == expected

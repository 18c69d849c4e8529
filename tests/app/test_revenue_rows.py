"""The fast path of revenue row parsing stages exactly what the core event gives."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from hypothesis import given
from hypothesis import strategies as st

from app.imports.csvfile import CsvRow, ErrorCollector
from app.journal.revenue_import.row_parser import DEFAULT_MAX_AMOUNT_FEN as LIMIT
from app.journal.revenue_import.row_parser import RevenueRowParser
from ledger.money import format_fen
from ledger.revenue import RevenueEvent, RevenueType

NOW = datetime(2026, 11, 25, 4, 0, tzinfo=UTC)
ids = st.text(
    alphabet=st.characters(blacklist_categories=("C", "Z")),  # what isprintable() refuses
    min_size=1,
    max_size=128,
)
instants = st.datetimes(
    min_value=datetime(2000, 1, 1), max_value=datetime(2026, 11, 1), timezones=st.just(UTC)
)
offsets = st.sampled_from([None, UTC, timezone(timedelta(hours=8)),
                           timezone(timedelta(hours=-5, minutes=-30))])  # fmt: skip


@given(
    event_id=ids, external_id=ids, revenue_type=st.sampled_from(list(RevenueType)),
    fen=st.integers(min_value=-LIMIT, max_value=LIMIT).filter(bool), instant=instants,
    offset=offsets, channel=st.one_of(st.none(), st.from_regex(r"[a-z0-9_.-]{1,20}", fullmatch=True)),
)  # fmt: skip
def test_a_good_row_is_staged_as_the_core_event_describes_it(
    event_id: str, external_id: str, revenue_type: RevenueType, fen: int, instant: datetime,
    offset: timezone | None, channel: str | None,
) -> None:  # fmt: skip
    # Without an offset the text is Shanghai wall time, which the core event receives aware.
    shanghai = instant.astimezone(timezone(timedelta(hours=8)))
    written = shanghai.replace(tzinfo=None) if offset is None else instant.astimezone(offset)
    row = CsvRow(line=7, values={
        "event_id": event_id, "external_id": external_id, "type": revenue_type.value,
        "amount": format_fen(fen), "occurred_at": written.isoformat(), "channel": channel or "",
    })  # fmt: skip
    errors = ErrorCollector(file="rev.csv")
    staged = RevenueRowParser(errors=errors, now=NOW).parse(row)
    event = RevenueEvent(event_id=event_id, external_id=external_id, revenue_type=revenue_type,
                         amount_fen=fen, occurred_at=instant)  # fmt: skip
    assert errors.total == 0
    assert staged == (
        7,
        event.event_id,
        event.external_id,
        channel,
        event.revenue_type.value,
        event.amount_fen,
        event.occurred_at,
    )


def test_revenue_before_1970_is_a_row_error() -> None:
    row = CsvRow(line=3, values={
        "event_id": "E1", "external_id": "A1", "type": "other", "amount": "1",
        "occurred_at": "1969-12-31T23:59:59Z",
    })  # fmt: skip
    errors = ErrorCollector(file="rev.csv")
    assert RevenueRowParser(errors=errors, now=NOW).parse(row) is None
    assert [(e.line, e.column, e.reason) for e in errors.errors] == [
        (3, "occurred_at", "occurred_at 1969-12-31T23:59:59Z is before 1970")
    ]

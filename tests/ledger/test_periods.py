"""Calendar months in Asia/Shanghai and the posting-period rule."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ledger.errors import InvalidPeriodError, InvalidTimestampError, PeriodClosedError
from ledger.periods import (
    SHANGHAI,
    Period,
    check_can_close,
    format_timestamp,
    is_prior_period_adjustment,
    parse_period,
    parse_timestamp,
    period_of,
    posting_period,
)

from .builders import PROPERTY

JAN, FEB, MAR = Period(2026, 1), Period(2026, 2), Period(2026, 3)


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def test_the_last_utc_hours_of_january_are_february_in_shanghai() -> None:
    assert period_of(utc("2026-01-31T15:59:59.999999")) == JAN
    assert period_of(utc("2026-01-31T16:00:00")) == FEB


def test_new_year_in_shanghai_starts_at_1600_utc() -> None:
    assert period_of(utc("2025-12-31T16:00:00")) == Period(2026, 1)
    assert period_of(utc("2025-12-31T15:59:59")) == Period(2025, 12)


def test_a_timestamp_without_offset_is_shanghai_time() -> None:
    parsed = parse_timestamp("2026-02-01T00:00:00")
    assert parsed == utc("2026-01-31T16:00:00")
    assert period_of(parsed) == FEB
    assert parse_timestamp("2026-02-01") == parsed


def test_a_timestamp_with_offset_keeps_it() -> None:
    assert parse_timestamp("2026-01-31T16:00:00Z") == utc("2026-01-31T16:00:00")
    assert parse_timestamp("2026-01-31T23:30:00+08:00") == utc("2026-01-31T15:30:00")


@pytest.mark.parametrize(
    "text", ["", "yesterday", "2026-13-01", " 2026-01-01", "2026-01-01T25:00", "1700000000"]
)
def test_malformed_timestamps_are_refused(text: str) -> None:
    with pytest.raises(InvalidTimestampError):
        parse_timestamp(text)


def test_naive_instants_have_no_period() -> None:
    with pytest.raises(InvalidTimestampError):
        period_of(datetime(2026, 1, 1))  # deliberately naive


def test_canonical_timestamps_are_shanghai_iso_8601() -> None:
    assert format_timestamp(utc("2026-01-31T16:00:00")) == "2026-02-01T00:00:00+08:00"


def test_period_labels_parse_strictly() -> None:
    assert parse_period("2026-02") == FEB
    assert str(FEB) == "2026-02"
    for bad in ("2026-2", "2026-13", "2026-00", "26-01", "2026/01", "2026-01 "):
        with pytest.raises(InvalidPeriodError):
            parse_period(bad)


def test_period_bounds_are_shanghai_midnights() -> None:
    assert FEB.start == datetime(2026, 2, 1, tzinfo=SHANGHAI)
    assert JAN.end == FEB.start
    assert Period(2025, 12).next() == JAN
    assert JAN.previous() == Period(2025, 12)
    assert JAN.contains(utc("2026-01-31T15:00:00"))
    assert not JAN.contains(JAN.end)


@PROPERTY
@given(st.integers(min_value=1901, max_value=9000), st.integers(min_value=1, max_value=12))
def test_next_and_previous_are_inverse(year: int, month: int) -> None:
    period = Period(year, month)
    assert period.next().previous() == period
    assert period.next() > period


@PROPERTY
@given(
    st.datetimes(
        min_value=datetime(1950, 1, 1), max_value=datetime(2200, 1, 1), timezones=st.just(UTC)
    )
)
def test_every_instant_lies_inside_its_period(instant: datetime) -> None:
    period = period_of(instant)
    assert period.start <= instant < period.end


def test_an_event_in_an_open_period_posts_there() -> None:
    at = utc("2026-01-20T00:00:00")
    assert (
        posting_period(occurred_at=at, now=utc("2026-03-05T00:00:00"), closed={Period(2025, 12)})
        == JAN
    )


def test_a_late_event_for_a_closed_period_posts_in_the_current_period() -> None:
    at = utc("2026-01-20T00:00:00")
    now = utc("2026-03-05T00:00:00")
    period = posting_period(occurred_at=at, now=now, closed={JAN, FEB})
    assert period == MAR
    assert is_prior_period_adjustment(occurred_at=at, period=period)
    assert not is_prior_period_adjustment(occurred_at=at, period=JAN)


def test_nothing_posts_when_the_current_period_is_closed_too() -> None:
    with pytest.raises(PeriodClosedError):
        posting_period(
            occurred_at=utc("2026-01-20T00:00:00"),
            now=utc("2026-02-05T00:00:00"),
            closed={JAN, FEB},
        )


def test_a_period_closes_once_and_only_after_it_ends() -> None:
    check_can_close(period=JAN, now=FEB.start, closed=set())
    with pytest.raises(InvalidPeriodError):
        check_can_close(period=FEB, now=FEB.end - timedelta(microseconds=1), closed=set())
    with pytest.raises(PeriodClosedError):
        check_can_close(period=JAN, now=MAR.start, closed={JAN})


def test_impossible_periods_are_refused() -> None:
    with pytest.raises(InvalidPeriodError):
        Period(2026, 13)

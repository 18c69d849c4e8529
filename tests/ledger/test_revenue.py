"""Revenue events and their content fingerprint."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import pytest

from ledger.errors import InvalidEventError, InvalidTimestampError
from ledger.periods import SHANGHAI
from ledger.revenue import RevenueType, parse_revenue_type

from .builders import make_event


def test_the_same_content_has_the_same_fingerprint_whatever_the_offset() -> None:
    utc = make_event(occurred_at=datetime(2026, 1, 31, 16, tzinfo=UTC))
    local = make_event(occurred_at=datetime(2026, 2, 1, 0, tzinfo=SHANGHAI))
    assert utc.fingerprint() == local.fingerprint()


@pytest.mark.parametrize(
    "change",
    [
        {"amount_fen": 10_001},
        {"revenue_type": RevenueType.OTHER},
        {"external_id": "L-43"},
        {"channel": "app"},
        {"occurred_at": datetime(2026, 3, 10, 2, 0, 1, tzinfo=UTC)},
    ],
)
def test_different_content_under_the_same_id_has_a_different_fingerprint(
    change: dict[str, object],
) -> None:
    event = make_event()
    assert replace(event, **change).fingerprint() != event.fingerprint()  # type: ignore[arg-type]


def test_zero_amounts_and_empty_ids_are_refused() -> None:
    with pytest.raises(InvalidEventError):
        make_event(amount_fen=0)
    with pytest.raises(InvalidEventError):
        make_event(event_id="")
    with pytest.raises(InvalidEventError):
        make_event(event_id=" EV")
    with pytest.raises(InvalidTimestampError):
        make_event(occurred_at=datetime(2026, 1, 1))  # deliberately naive


def test_revenue_types_are_the_spec_names() -> None:
    assert parse_revenue_type("margin_interest") is RevenueType.MARGIN_INTEREST
    with pytest.raises(InvalidEventError, match="unknown revenue type"):
        parse_revenue_type("Margin_Interest")


def test_fingerprints_see_a_single_microsecond() -> None:
    base = datetime(2300, 1, 1, tzinfo=UTC)
    later = base.replace(microsecond=1)
    assert make_event(occurred_at=base).fingerprint() != make_event(occurred_at=later).fingerprint()


@pytest.mark.parametrize("channel", ["a:b", "", "has space", "x" * 65])
def test_channel_names_that_cannot_name_an_account_are_refused(channel: str) -> None:
    with pytest.raises(InvalidEventError):
        make_event(channel=channel)

"""Shared builders for the ledger core tests."""

from __future__ import annotations

from datetime import UTC, datetime

from hypothesis import settings

from ledger.revenue import RevenueEvent, RevenueType

# Applied per test rather than as a global profile, so other suites keep their settings.
# No deadline: the functions are fast, but a loaded CI machine must not make them flaky.
PROPERTY = settings(max_examples=200, deadline=None)

T0 = datetime(2026, 3, 10, 2, 0, tzinfo=UTC)


def make_event(
    *,
    event_id: str = "EV-1",
    amount_fen: int = 10_000,
    revenue_type: RevenueType = RevenueType.BROKERAGE_COMMISSION,
    occurred_at: datetime = T0,
    channel: str | None = None,
) -> RevenueEvent:
    return RevenueEvent(
        event_id=event_id,
        external_id="L-42",
        revenue_type=revenue_type,
        amount_fen=amount_fen,
        occurred_at=occurred_at,
        channel=channel,
    )

"""Learning conversion rates with shrinkage toward the tier mean (issue 15.4), by hand."""

from __future__ import annotations

import pytest
from sqlalchemy.engine import Engine

from allocation.value import RateSpec
from app.analytics.rates import HistoryCell, history_cells, learned_rates
from app.db import session_scope


def test_rates_shrink_toward_the_tier_mean_as_computed_by_hand() -> None:
    cells = [
        HistoryCell("B", "hnw", "web", assigned=30, converted=3, revenue_fen=90_000),
        HistoryCell("A", "hnw", "wechat", assigned=10, converted=5, revenue_fen=500_000),
        HistoryCell("A", "mass", "web", assigned=0, converted=0, revenue_fen=0),
    ]
    # hnw pooled: 8 of 40 = 0.2, revenue 590,000 / 8 = 73,750 fen a conversion.
    # A/wechat: (5 + 20 x 0.2) / (10 + 20) = 0.3; (500,000 + 5 x 73,750) / (5 + 5) = 86,875.
    # B/web: (3 + 4) / (30 + 20) = 0.14; (90,000 + 368,750) / (3 + 5) = 57,343.75 -> 57,344.
    # mass has no leads: rate 0, revenue 0, and its one cell says the same.
    assert learned_rates(cells) == (
        RateSpec("hnw", 0.2, 73_750),
        RateSpec("mass", 0.0, 0),
        RateSpec("hnw", 0.3, 86_875, branch_code="A", channel="wechat"),
        RateSpec("hnw", 0.14, 57_344, branch_code="B", channel="web"),
        RateSpec("mass", 0.0, 0, branch_code="A", channel="web"),
    )


def test_the_prior_strength_decides_how_far_a_cell_moves() -> None:
    cells = [
        HistoryCell("A", "hnw", "web", assigned=10, converted=5, revenue_fen=100),
        HistoryCell("B", "hnw", "web", assigned=90, converted=5, revenue_fen=100),
    ]
    own = learned_rates(cells, prior_leads=0, prior_conversions=0)
    assert [r.conversion_rate for r in own[1:]] == [0.5, 5 / 90]
    pooled = learned_rates(cells, prior_leads=10**9, prior_conversions=10**9)
    assert [r.conversion_rate for r in pooled[1:]] == pytest.approx([0.1, 0.1], abs=1e-6)


def test_the_same_history_in_any_order_gives_the_same_rates() -> None:
    cells = [
        HistoryCell(b, t, c, assigned=n, converted=n // 3, revenue_fen=1_000 * n)
        for n, (b, t, c) in enumerate(
            [("A", "hnw", "web"), ("B", "mass", "web"), ("A", "mass", "app"), ("C", "hnw", "x")],
            start=4,
        )
    ]
    assert learned_rates(cells) == learned_rates(reversed(cells))


def test_more_conversions_than_leads_is_refused() -> None:
    with pytest.raises(ValueError, match="converted"):
        learned_rates([HistoryCell("A", "hnw", "web", assigned=1, converted=2, revenue_fen=0)])


def test_history_is_counted_per_branch_tier_and_channel_as_the_funnel_counts(
    engine: Engine, funnel_world: dict[str, int]
) -> None:
    with session_scope(engine) as session:
        cells = history_cells(session)
    assert cells == [
        HistoryCell("BJ-CY", "hnw", "wechat", assigned=1, converted=1, revenue_fen=725),
        HistoryCell("BJ-CY", "mass", "wechat", assigned=1, converted=0, revenue_fen=0),
        HistoryCell("SZ-FT", "mass", "app", assigned=3, converted=1, revenue_fen=12_050),
    ]

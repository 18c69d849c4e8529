"""The round page's chart geometry and labels, without a database."""

from __future__ import annotations

from app.web.charts import load_bars, nice_step
from app.web.messages import explanation_label
from app.web.pages.round_charts import PALETTE, Site, colour_sites, distance_edges
from coded_messages import message


def test_load_bars_share_one_scale_and_colour_by_fullness() -> None:
    chart = load_bars([("A", "甲", 50, 100), ("B", "乙", 10, 10), ("C", "丙", 0, 20)], width=300)
    big, full, idle = chart.rows
    assert big.capacity_width == 2 * big.load_width
    assert big.capacity_width == 5 * idle.capacity_width
    assert (big.tone, full.tone, idle.tone) == ("mid", "full", "low")
    assert all(r.capacity_width <= 300 - chart.label_width for r in chart.rows)
    assert [r.y for r in chart.rows] == [0, chart.row_height, 2 * chart.row_height]
    assert load_bars([]).rows == []


def test_histogram_bins_are_round_numbers_up_to_the_95th_percentile() -> None:
    assert nice_step(100) == 10
    assert nice_step(7.3) == 1
    assert nice_step(1_350) == 200
    assert distance_edges(48.0, 120.0) == [5.0 * (i + 1) for i in range(10)]
    assert distance_edges(None, 3.0)[-1] >= 3.0
    assert distance_edges(None, None) == []


def test_neighbouring_branches_get_different_colours() -> None:
    grid = [Site(i, f"B{i}", "", 30 + (i // 5) * 0.1, 110 + (i % 5) * 0.1) for i in range(25)]
    colours = colour_sites(grid, neighbours=4)
    assert set(colours) == {s.id for s in grid}
    assert all(0 <= c < PALETTE for c in colours.values())
    for site in grid:  # the branch to the east and the one to the north differ
        east, north = site.id + 1, site.id + 5
        if site.id % 5 < 4:
            assert colours[site.id] != colours[east]
        if north < 25:
            assert colours[site.id] != colours[north]
    assert colour_sites([]) == {}


def test_solver_explanations_read_in_chinese_from_their_codes() -> None:
    assert explanation_label(None) == "就近分配"
    assert explanation_label(message("plan.no_location")) == "无法定位"
    assert explanation_label(message("plan.no_location"), "", "no_location") == "—"
    assert explanation_label(message("plan.nearest_full", branch="SZ-FT")) == (
        "最近的可服务营业部 SZ-FT 已满"
    )
    room = message("plan.nearest_had_room", branch="BJ-CY", why="load_balance")
    assert explanation_label(room) == "最近的可服务营业部 BJ-CY 尚有空位（负载均衡）"
    assert explanation_label(message("plan.cheapest_full", branch="P1")) == (
        "成本最低的候选营业部 P1 已满"
    )
    follower = message("round.same_customer", lead=42)
    assert explanation_label(follower, "", "no_location") == "与线索 #42 属同一客户，随其分配"
    assert explanation_label(None, "written before codes") == "written before codes"

"""Server-drawn charts: shapes that stay inside their box and mean what they show."""

from __future__ import annotations

from app.web.charts import Point, geo_plot, histogram


def test_the_tallest_bar_fills_the_chart_and_empty_buckets_stay_flat() -> None:
    chart = histogram([0, 5, 10], ["a", "b", "c"], ["low", "mid", "full"], width=300, height=100)
    zero, half, full = chart.bars
    assert zero.height == 0
    assert full.height == 2 * half.height
    assert full.y >= 0
    assert full.y + full.height == 100 - 22  # bars stand on the axis
    assert full.x + full.width <= 300


def test_a_histogram_of_nothing_draws_no_bar_heights() -> None:
    chart = histogram([0, 0], ["a", "b"], ["low", "low"])
    assert [b.height for b in chart.bars] == [0, 0]


def test_the_plot_puts_north_up_and_east_right_inside_the_box() -> None:
    beijing = Point(39.9, 116.4, "low", "北京")
    shenzhen = Point(22.5, 114.1, "full", "深圳")
    urumqi = Point(43.8, 87.6, "mid", "乌鲁木齐")
    plot = geo_plot([beijing, shenzhen, urumqi], width=500, max_height=400)
    bj, sz, wlmq = plot.dots
    assert bj.y < sz.y  # Beijing is north of Shenzhen
    assert wlmq.x < sz.x < bj.x  # west to east
    for dot in plot.dots:
        assert 0 <= dot.x <= plot.width
        assert 0 <= dot.y <= plot.height
    assert plot.height <= 400


def test_a_plot_of_one_point_or_none_still_has_a_box() -> None:
    assert geo_plot([]).dots == []
    single = geo_plot([Point(30.0, 120.0, "low", "杭州")])
    assert len(single.dots) == 1
    assert single.height > 0

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


def test_the_china_map_draws_the_provinces_and_places_cities_where_they_are() -> None:
    from app.web.charts import Point, china_plot

    plot = china_plot([Point(43.83, 87.62, "mid", "乌鲁木齐"), Point(31.23, 121.47, "mid", "上海"),
                       Point(18.25, 109.51, "mid", "三亚")])  # fmt: skip
    assert len(plot.provinces) >= 34  # every province, some in several parts
    assert plot.inset is not None
    assert plot.inset.islands  # the South China Sea islands, in their inset
    urumqi, shanghai, sanya = plot.dots
    assert urumqi.x < shanghai.x  # west is left
    assert sanya.y > shanghai.y > urumqi.y  # south is down
    assert all(0 <= d.x <= plot.width and 0 <= d.y <= plot.height for d in plot.dots)
    assert plot.inset.x + plot.inset.width <= plot.width

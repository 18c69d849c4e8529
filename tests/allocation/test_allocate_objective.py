"""`o2o allocate --objective` (issue 15.4): the modes, their options and their report fields."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.allocation.allocate_files import _files, _run

BRANCHES = "code,name,lat,lon,capacity\nB0,总部,31.0,121.0,2\nB1,远郊,31.2,121.0,0\n"
LEADS = (
    "external_id,lat,lon,tier,channel\n"
    "H1,31.027,121.0,hnw,wechat\n"
    "H2,30.973,121.0,hnw,douyin\n"
    "M1,31.009,121.0,mass,wechat\n"
    "M2,30.991,121.0,mass,web\n"
)
RATES = (
    "branch_code,tier,channel,conversion_rate,mean_revenue_fen\n"
    ",hnw,,0.1,5000000\n"
    "B0,mass,wechat,0.5,2000000\n"
    ",mass,*,0.01,100000\n"
)


def _round(tmp_path: Path, *extra: str, rates: str | None = None) -> tuple[int, str, dict]:
    args = _files(tmp_path, branches=BRANCHES, leads=LEADS)
    if rates is not None:
        (tmp_path / "rates.csv").write_text(rates, encoding="utf-8")
        args += ["--rates", str(tmp_path / "rates.csv")]
    code, output = _run([*args, *extra])
    report = tmp_path / "report.json"
    return code, output, json.loads(report.read_text()) if code == 0 else {}


def _placed(tmp_path: Path) -> dict[str, str]:
    rows = (tmp_path / "out.csv").read_text().splitlines()[1:]
    return {r.split(",")[0]: r.split(",")[1] for r in rows}


def test_distance_is_the_default_and_reports_its_mode(tmp_path: Path) -> None:
    code, _, report = _round(tmp_path)
    assert code == 0
    assert report["objective_mode"] == "distance"
    assert report["value"] is None
    # Room for two: distance alone keeps the two mass leads 2 km closer (the case).
    assert _placed(tmp_path) == {"H1": "", "H2": "", "M1": "B0", "M2": "B0"}


def test_tier_priority_keeps_the_hnw_leads_at_the_near_branch(tmp_path: Path) -> None:
    code, _, report = _round(tmp_path, "--objective", "tier_priority")
    assert code == 0
    assert _placed(tmp_path) == {"H1": "B0", "H2": "B0", "M1": "", "M2": ""}
    assert report["value"] == {
        "value_km": 2000.0,
        "tier_weights_km": {"mass": 0.0, "affluent": 100.0, "hnw": 1000.0},
    }
    assert report["assigned_by_tier"] == {"mass": 0, "affluent": 0, "hnw": 2}
    assert report["status"] == "optimal"
    assert report["lower_bound"] <= report["objective"]


def test_tier_weights_are_given_in_km(tmp_path: Path) -> None:
    code, _, report = _round(tmp_path, "--objective", "tier_priority", "--tier-weights", "hnw=1")
    assert code == 0
    # One km of priority does not pay for the 2 km more an hnw lead travels: as distance.
    assert _placed(tmp_path) == {"H1": "", "H2": "", "M1": "B0", "M2": "B0"}
    assert report["value"]["tier_weights_km"] == {"mass": 0.0, "affluent": 0.0, "hnw": 1.0}


def test_expected_value_reads_the_rates_and_reports_expectations(tmp_path: Path) -> None:
    code, _, report = _round(
        tmp_path, "--objective", "expected_value", "--price-per-km-fen", "1000", rates=RATES
    )
    assert code == 0, report
    # M1 (wechat) converts at 50% x 20,000 yuan at B0 (1,000 km of value), an hnw lead at
    # 10% x 50,000 yuan (500 km), M2 (web) at 1% x 1,000 yuan (1 km): M1 and one hnw lead.
    placed = _placed(tmp_path)
    assert placed["M1"] == "B0"
    assert placed["M2"] == ""
    assert {placed["H1"], placed["H2"]} == {"B0", ""}
    value = report["value"]
    assert value["price_per_km_fen"] == 1000
    assert value["expected_conversions"] == pytest.approx(0.5 + 0.1)
    assert value["expected_revenue_fen"] == 1_000_000 + 500_000


@pytest.mark.parametrize(
    ("extra", "rates", "said"),
    [
        (["--objective", "value"], None, "--objective must be one of"),
        (["--objective", "expected_value"], None, "needs --rates"),
        (["--tier-weights", "hnw=5"], None, "applies to --objective tier_priority"),
        (["--objective", "tier_priority", "--tier-weights", "hnw:5"], None, "is not tier=km"),
        (["--objective", "tier_priority", "--tier-weights", "vip=5"], None, "unknown tier"),
        (["--objective", "tier_priority"], RATES, "applies to --objective expected_value"),
        (
            ["--objective", "expected_value"],
            "tier,conversion_rate,mean_revenue_fen\nhnw,1.5,100\n",
            "rates.csv:2: column 'conversion_rate'",
        ),
        (
            ["--objective", "expected_value"],
            "tier,conversion_rate,mean_revenue_fen,branch_code\nhnw,0.5,100,\nhnw,0.5,100,X9\n",
            "rates.csv:3: column 'branch_code'",
        ),
    ],
)
def test_bad_objective_options_exit_2(
    tmp_path: Path, extra: list[str], rates: str | None, said: str
) -> None:
    code, output, _ = _round(tmp_path, *extra, rates=rates)
    assert code == 2
    assert said in output
    assert not (tmp_path / "out.csv").exists()

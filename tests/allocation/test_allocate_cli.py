"""`o2o allocate` end to end: files in, files out, exit codes and error locations."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

import app.cli.allocate as allocate_cli
from allocation.errors import InputFileError
from tests.allocation.allocate_files import BRANCHES, LEADS, _files, _run


def test_a_round_writes_assignments_in_input_order_and_a_report(tmp_path: Path) -> None:
    code, output = _run(_files(tmp_path))
    assert code == 0, output
    with (tmp_path / "out.csv").open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert [r["external_id"] for r in rows] == ["a1", "a2", "a3", "a4"]
    assert list(rows[0])[:5] == ["external_id", "branch_code", "distance_km", "cost", "reason"]
    assert rows[0]["branch_code"] == "SH01"
    assert rows[1]["branch_code"] == "SH02"
    assert rows[3]["branch_code"] == ""
    assert rows[3]["reason"] == "no_location"
    report = json.loads((tmp_path / "report.json").read_text(encoding="utf-8"))
    assert report["status"] == "optimal"
    assert (report["assigned"], report["unassigned"]) == (3, 1)
    assert report["objective"] == pytest.approx(sum(float(r["cost"]) for r in rows[:3]), abs=1e-3)
    assert report["lower_bound"] <= report["objective"] + 1e-9
    assert {b["code"]: b["load"] for b in report["branches"]} == {"SH01": 2, "SH02": 1, "BJ01": 0}
    for b in report["branches"]:  # issue 15.3: each branch's shadow price is in the report
        assert {"shadow_price_km", "marginal_leads", "shadow_price_holds_for"} <= set(b)
        assert isinstance(b["shadow_price_km"], float)
    assert report["shadow_price_tolerance_km"] is not None
    assert "read 4 leads" in output
    assert "solved" in output


def test_a_bom_and_any_column_order_are_accepted(tmp_path: Path) -> None:
    leads = "\ufefftier,external_id,lon,lat\nmass,a1,121.55,31.22\n"
    code, output = _run(_files(tmp_path, leads=leads))
    assert code == 0, output


@pytest.mark.parametrize(
    ("branches", "leads", "where"),
    [
        (BRANCHES, "external_id,lat,lon\na1,31.2,abc\n", "l.csv:2: column 'lon'"),
        (
            BRANCHES,
            "external_id,lat,lon\na1,31.2,121\na1,31.3,121\n",
            "l.csv:3: column 'external_id'",
        ),
        (BRANCHES, "lat,lon\n31.2,121\n", "l.csv:1: column 'external_id'"),
        (BRANCHES, "external_id,lat,lon\na1,95,121\n", "l.csv:2: column 'lat'"),
        (BRANCHES, "external_id,lat,lon\na1,31.2,\n", "l.csv:2: column 'lon'"),
        (BRANCHES, 'external_id,lat,lon\n"a\n1",31.2,121\na2,x,1\n', "l.csv:4: column 'lat'"),
        (BRANCHES.replace("5,,110105", "-5,,110105"), LEADS, "b.csv:4: column 'capacity'"),
        (BRANCHES.replace("5,,110105", "2.5,,110105"), LEADS, "b.csv:4: column 'capacity'"),
        (BRANCHES.replace(",true", ",maybe"), LEADS, "b.csv:2: column 'active'"),
        (BRANCHES.replace("SH02", "SH01"), LEADS, "b.csv:3: column 'code'"),
        (BRANCHES.replace("310104", "3101"), LEADS, "b.csv:3: column 'region_code'"),
        ("code,name,lat,lon,capacity\n", "external_id\na1\n", None),
    ],
)
def test_bad_input_exits_2_naming_the_place_and_writes_nothing(
    tmp_path: Path, branches: str, leads: str, where: str | None
) -> None:
    code, output = _run(_files(tmp_path, branches=branches, leads=leads))
    if where is None:  # no branches at all is a valid (empty) round
        assert code == 0, output
        return
    assert code == 2, output
    assert where in output
    assert not (tmp_path / "out.csv").exists()
    assert not (tmp_path / "report.json").exists()
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


@pytest.mark.parametrize(
    ("pairs", "where"),
    [
        ("external_id,branch_code,cost,workload\na1,XX,1,1\n", "p.csv:2: column 'branch_code'"),
        ("external_id,branch_code,cost,workload\nzz,SH01,1,1\n", "p.csv:2: column 'external_id'"),
        ("external_id,branch_code,cost,workload\na1,SH01,-1,1\n", "p.csv:2: column 'cost'"),
        ("external_id,branch_code,cost,workload\na1,SH01,1,0\n", "p.csv:2: column 'workload'"),
        (
            "external_id,branch_code,cost,workload\na1,SH01,1,1\na1,SH01,2,1\n",
            "p.csv:3: column 'branch_code'",
        ),
    ],
)
def test_bad_pairs_exit_2(tmp_path: Path, pairs: str, where: str) -> None:
    code, output = _run(_files(tmp_path, pairs=pairs))
    assert code == 2, output
    assert where in output
    assert not (tmp_path / "out.csv").exists()


def test_pair_mode_uses_the_listed_costs(tmp_path: Path) -> None:
    pairs = "external_id,branch_code,cost,workload\na1,SH02,0.5,1\na2,SH02,3,1\na2,SH01,1.25,1\n"
    code, output = _run(_files(tmp_path, pairs=pairs))
    assert code == 0, output
    rows = list(csv.DictReader((tmp_path / "out.csv").open(encoding="utf-8")))
    assert [(r["branch_code"], r["cost"]) for r in rows[:2]] == [
        ("SH02", "0.500000"),
        ("SH01", "1.250000"),
    ]
    assert rows[2]["reason"] == "no_eligible_branch"


def test_an_internal_failure_exits_1_and_writes_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*_args: object, **_kwargs: object) -> None:
        raise RuntimeError("solver exploded")

    monkeypatch.setattr(allocate_cli, "solve", broken)
    code, output = _run(_files(tmp_path))
    assert code == 1
    assert "solver exploded" in output
    assert not (tmp_path / "out.csv").exists()


def test_a_missing_file_is_bad_input(tmp_path: Path) -> None:
    args = _files(tmp_path)
    (tmp_path / "l.csv").unlink()
    code, output = _run(args)
    assert code == 2
    assert "l.csv" in output


def test_leads_without_coordinates_resolve_from_region_code(tmp_path: Path) -> None:
    leads = "external_id,region_code,mobile\nr1,310115,\nr2,,\n"
    code, output = _run(_files(tmp_path, leads=leads))
    assert code == 0, output
    rows = list(csv.DictReader((tmp_path / "out.csv").open(encoding="utf-8")))
    assert rows[0]["branch_code"] in {"SH01", "SH02"}
    assert rows[1]["reason"] == "no_location"


def test_the_fast_reader_for_big_plain_files_agrees_with_the_exact_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from allocation_files import reading as csv_reading

    path = tmp_path / "leads.csv"
    path.write_text(
        "external_id,lat,lon,tier\n"
        + "".join(
            f"id{i},{30 + i / 1000},{120 + i / 1000},{'' if i % 3 else 'hnw'}\n" for i in range(500)
        ),
        encoding="utf-8",
    )
    kwargs = {"required": ("external_id",), "optional": ("lat", "lon", "tier", "mobile")}
    exact = csv_reading.read_columns(path, **kwargs)
    monkeypatch.setattr(csv_reading, "PLAIN_MIN_BYTES", 0)
    fast = csv_reading._read_plain(path, file=path.name, **kwargs)
    assert fast is not None
    assert fast == exact
    path.write_text("external_id,lat\na,1\nb,x\n", encoding="utf-8")
    columns = csv_reading.read_columns(path, **kwargs)
    with pytest.raises(InputFileError, match=r"leads.csv:3: column 'lat'"):
        csv_reading.numbers(columns, "lat", allow_empty=True)


def test_ids_and_codes_that_start_a_formula_are_written_as_text(tmp_path: Path) -> None:
    branches = BRANCHES.replace("SH01,", "-SH01,")  # codes allow a leading minus
    leads = LEADS.replace("a1,", "=HYPERLINK(1),").replace("a2,", "\uff0da2,")
    code, output = _run(_files(tmp_path, branches=branches, leads=leads))
    assert code == 0, output
    with (tmp_path / "out.csv").open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert [r["external_id"] for r in rows] == ["'=HYPERLINK(1)", "'\uff0da2", "a3", "a4"]
    assert rows[0]["branch_code"] == "'-SH01"
    assert rows[1]["branch_code"] == "SH02"

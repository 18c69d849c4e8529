"""Issue 12 item 7: input that would silently change the round is refused by `o2o allocate`
with exit 2, a message naming file, line and column, and no output written."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.allocation.allocate_files import BRANCHES, LEADS, _files, _run

PAIRS = "external_id,branch_code,cost,workload\n"


def _assert_refused(tmp_path: Path, args: list[str], where: str) -> None:
    code, output = _run(args)
    assert code == 2, output
    assert where in output
    assert not (tmp_path / "out.csv").exists()
    assert not (tmp_path / "report.json").is_file()


@pytest.mark.parametrize(
    ("branches", "leads", "where"),
    [
        (
            BRANCHES,
            LEADS.replace("a3,31.21,121.50,hnw", "a3,31.21,121.50,vip"),
            "l.csv:4: column 'tier'",
        ),
        (
            BRANCHES,
            LEADS.replace("a1,31.22,121.55,mass", "a1,31.22,121.55,Mass"),
            "l.csv:2: column 'tier'",
        ),
        (BRANCHES.replace("mass|affluent", "mass|vip"), LEADS, "b.csv:3: column 'tiers'"),
        (BRANCHES.replace("mass|affluent", "Mass|affluent"), LEADS, "b.csv:3: column 'tiers'"),
    ],
)
def test_an_unknown_tier_is_an_error_not_a_new_tier(
    tmp_path: Path, branches: str, leads: str, where: str
) -> None:
    _assert_refused(tmp_path, _files(tmp_path, branches=branches, leads=leads), where)


@pytest.mark.parametrize("capacity", ["99999999999999999999", "1e30", "1000000001"])
def test_a_capacity_beyond_a_billion_names_its_cell(tmp_path: Path, capacity: str) -> None:
    branches = BRANCHES.replace("5,,110105", f"{capacity},,110105")
    _assert_refused(tmp_path, _files(tmp_path, branches=branches), "b.csv:4: column 'capacity'")


def test_a_workload_beyond_a_billion_names_its_cell(tmp_path: Path) -> None:
    pairs = PAIRS + "a1,SH01,1,1\na2,SH01,1,18446744073709551617\n"
    _assert_refused(tmp_path, _files(tmp_path, pairs=pairs), "p.csv:3: column 'workload'")


def test_a_row_with_more_values_than_columns_names_its_line(tmp_path: Path) -> None:
    leads = "external_id,lat,lon\na1,31.2,121.5\na2,31.2,121.5,mass\n"
    _assert_refused(tmp_path, _files(tmp_path, leads=leads), "l.csv:3")


def test_unknown_columns_stay_ignored(tmp_path: Path) -> None:
    leads = "external_id,lat,lon,colour\na1,31.2,121.5,red\n"
    code, output = _run(_files(tmp_path, leads=leads))
    assert code == 0, output


def test_a_report_path_that_is_a_directory_is_refused_before_anything_is_written(
    tmp_path: Path,
) -> None:
    args = _files(tmp_path)
    (tmp_path / "report.json").mkdir()
    _assert_refused(tmp_path, args, "--report")


@pytest.mark.parametrize("victim", ["l.csv", "b.csv"])
def test_an_output_equal_to_an_input_is_refused_and_the_input_survives(
    tmp_path: Path, victim: str
) -> None:
    args = _files(tmp_path)
    args[args.index("--out") + 1] = str(tmp_path / "sub" / ".." / victim)
    (tmp_path / "sub").mkdir()
    before = (tmp_path / victim).read_bytes()
    code, output = _run(args)
    assert code == 2, output
    assert "--out" in output
    assert "input file" in output
    assert (tmp_path / victim).read_bytes() == before
    assert not (tmp_path / "report.json").exists()


def test_a_long_row_in_a_big_plain_file_names_its_line(tmp_path: Path) -> None:
    # Over 1 MB without quotes takes the fast (pandas) path; the long row must not slip by.
    rows = [f"L{i:07d},31.2,121.5\n" for i in range(70_000)]
    rows[50_000] = "L0050000,31.2,121.5,extra\n"
    leads = "external_id,lat,lon\n" + "".join(rows)
    assert len(leads) > 1 << 20
    _assert_refused(tmp_path, _files(tmp_path, leads=leads), "l.csv:50002")

"""Branch import: upsert by code, all-or-nothing, every bad row reported."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlmodel import select

from app.branches.importer import import_branches
from app.config import Settings
from app.db import make_engine, session_scope
from app.errors import FileRejected
from app.tables import Branch
from tests.app.factories import BRANCHES_CSV, write


def _import(settings: Settings, path: Path):  # type: ignore[no-untyped-def]
    with session_scope(make_engine(settings)) as session:
        return import_branches(session, path=path, actor="test")


def _codes(settings: Settings) -> dict[str, Branch]:
    with session_scope(make_engine(settings)) as session:
        return {b.code: b for b in session.exec(select(Branch))}


def test_branches_are_created_then_reimport_changes_nothing(
    settings: Settings, tmp_path: Path
) -> None:
    path = write(tmp_path, "b.csv", "\ufeff" + BRANCHES_CSV)
    first = _import(settings, path)
    again = _import(settings, path)
    assert (first.inserted, first.updated) == (3, 0)
    assert (again.inserted, again.updated, again.unchanged) == (0, 0, 3)
    branches = _codes(settings)
    assert branches["BJ-CY"].tiers == "affluent|mass"
    assert branches["SH-PD"].active is False
    assert branches["SZ-FT"].name == "深圳福田营业部"


def test_a_changed_row_updates_the_branch_with_the_same_code(
    settings: Settings, tmp_path: Path
) -> None:
    _import(settings, write(tmp_path, "b.csv", BRANCHES_CSV))
    changed = BRANCHES_CSV.replace("22.541,114.055,100", "22.541,114.055,150")
    report = _import(settings, write(tmp_path, "b2.csv", changed))
    assert (report.inserted, report.updated) == (0, 1)
    assert _codes(settings)["SZ-FT"].capacity == 150


def test_every_bad_row_is_reported_and_nothing_is_written(
    settings: Settings, tmp_path: Path
) -> None:
    bad = (
        "name,code,lat,lon,capacity,extra\n"
        "好,GOOD,22.5,114.0,10,x\n"
        "坏,BAD CODE,22.5,114.0,10,x\n"
        "坏,LAT,95,114.0,10,x\n"
        "坏,CAP,22.5,114.0,-1,x\n"
        "坏,GOOD,22.5,114.0,10,x\n"
    )
    with pytest.raises(FileRejected) as caught:
        _import(settings, write(tmp_path, "bad.csv", bad))
    found = {(e.line, e.column) for e in caught.value.errors}
    assert found == {(3, "code"), (4, "lat"), (5, "capacity"), (6, "code")}
    assert all(e.file == "bad.csv" for e in caught.value.errors)
    assert _codes(settings) == {}


def test_a_missing_required_column_is_named(settings: Settings, tmp_path: Path) -> None:
    with pytest.raises(FileRejected) as caught:
        _import(settings, write(tmp_path, "b.csv", "code,name,lat,lon\nA,a,1,1\n"))
    assert [(e.line, e.column) for e in caught.value.errors] == [(1, "capacity")]


def test_unknown_tiers_and_huge_capacities_are_rejected_with_their_cells(
    settings: Settings, tmp_path: Path
) -> None:
    bad = (
        "code,name,lat,lon,capacity,tiers\n"
        "OK,好,22.5,114.0,10,mass|hnw\n"
        "VIP,坏,22.5,114.0,10,mass|vip\n"
        "UP,坏,22.5,114.0,10,Mass\n"
        "BIG,坏,22.5,114.0,1000000001,\n"
    )
    with pytest.raises(FileRejected) as caught:
        _import(settings, write(tmp_path, "tiers.csv", bad))
    found = {(e.line, e.column) for e in caught.value.errors}
    assert found == {(3, "tiers"), (4, "tiers"), (5, "capacity")}
    assert _codes(settings) == {}

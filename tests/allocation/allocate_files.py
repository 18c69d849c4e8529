"""Input files for `o2o allocate` and a runner for the command, shared by its tests."""

from __future__ import annotations

from pathlib import Path

import typer
from typer.testing import CliRunner

import app.cli.allocate as allocate_cli

BRANCHES = (
    "code,name,lat,lon,capacity,tiers,region_code,active\n"
    "SH01,浦东,31.22,121.54,2,,310115,true\n"
    "SH02,徐汇,31.18,121.43,1,mass|affluent,310104,\n"
    "BJ01,朝阳,39.92,116.44,5,,110105,false\n"
)
LEADS = (
    "external_id,lat,lon,tier,extra\n"
    "a1,31.22,121.55,mass,x\n"
    "a2,31.19,121.44,,y\n"
    "a3,31.21,121.50,hnw,z\n"
    "a4,,,mass,\n"
)


def _app() -> typer.Typer:
    app = typer.Typer()
    app.command("allocate")(allocate_cli.allocate)
    app.command("noop")(lambda: None)
    return app


def _files(
    tmp_path: Path, *, branches: str = BRANCHES, leads: str = LEADS, pairs: str | None = None
) -> list[str]:
    (tmp_path / "b.csv").write_text(branches, encoding="utf-8")
    (tmp_path / "l.csv").write_text(leads, encoding="utf-8")
    args = [
        "allocate",
        "--branches",
        str(tmp_path / "b.csv"),
        "--leads",
        str(tmp_path / "l.csv"),
        "--out",
        str(tmp_path / "out.csv"),
        "--report",
        str(tmp_path / "report.json"),
    ]
    if pairs is not None:
        (tmp_path / "p.csv").write_text(pairs, encoding="utf-8")
        args += ["--pairs", str(tmp_path / "p.csv")]
    return args


def _run(args: list[str]) -> tuple[int, str]:
    result = CliRunner().invoke(_app(), args)
    return result.exit_code, result.output + (result.stderr if result.stderr_bytes else "")

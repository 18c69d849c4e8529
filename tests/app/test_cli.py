"""The `o2o` command as an operator uses it: exit codes, messages, password on stdin."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlmodel import select
from typer.testing import CliRunner

from app.cli import cli
from app.config import Settings, get_settings
from app.db import make_engine, session_scope
from app.tables import Lead, User
from tests.app.factories import BRANCHES_CSV, write

runner = CliRunner()


@pytest.fixture
def cli_env(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Iterator[Settings]:
    monkeypatch.setenv("O2O_DATABASE_URL", settings.database_url)
    monkeypatch.setenv("O2O_SECRET_KEY", settings.secret_key)
    get_settings.cache_clear()
    yield settings
    get_settings.cache_clear()


def test_db_upgrade_is_idempotent(cli_env: Settings) -> None:
    result = runner.invoke(cli, ["db", "upgrade"])
    assert result.exit_code == 0, result.output
    assert "head" in result.output


def test_importing_a_bad_file_exits_2_naming_file_line_and_column(
    cli_env: Settings, tmp_path: Path
) -> None:
    path = write(tmp_path, "leads.csv", "external_id,lat,lon\nA,22.5,114\nB,95,114\n")
    result = runner.invoke(cli, ["import", "leads", str(path), "--channel", "app"])
    assert result.exit_code == 2
    assert "leads.csv:3: column 'lat'" in result.output
    assert "nothing was written" in result.output
    with session_scope(make_engine(cli_env)) as session:
        assert session.exec(select(Lead)).all() == []


def test_importing_branches_then_leads_reports_counts(cli_env: Settings, tmp_path: Path) -> None:
    branches = runner.invoke(
        cli, ["import", "branches", str(write(tmp_path, "b.csv", BRANCHES_CSV))]
    )
    assert branches.exit_code == 0, branches.output
    assert "3 new" in branches.output
    leads = write(tmp_path, "l.csv", "external_id,mobile\nA,13800138000\nB,13912345678\n")
    result = runner.invoke(cli, ["import", "leads", str(leads), "--channel", "wechat"])
    assert result.exit_code == 0, result.output
    assert "2 new" in result.output


def test_users_create_reads_the_password_from_stdin(cli_env: Settings, tmp_path: Path) -> None:
    runner.invoke(cli, ["import", "branches", str(write(tmp_path, "b.csv", BRANCHES_CSV))])
    args = ["users", "create", "--username", "zhang.wei", "--role", "branch", "--branch", "SZ-FT"]
    result = runner.invoke(cli, args, input="a long password\n")
    assert result.exit_code == 0, result.output
    with session_scope(make_engine(cli_env)) as session:
        user = session.exec(select(User).where(User.username == "zhang.wei")).one()
    assert user.role == "branch"
    assert "a long password" not in user.password_hash


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--role", "branch"], "needs --branch"),
        (["--role", "hq", "--branch", "SZ-FT"], "only branch users"),
        (["--role", "boss"], "role must be one of"),
        (["--role", "branch", "--branch", "NOPE"], "no branch 'NOPE'"),
    ],
)
def test_users_create_rejects_bad_input_clearly(
    cli_env: Settings, tmp_path: Path, args: list[str], message: str
) -> None:
    runner.invoke(cli, ["import", "branches", str(write(tmp_path, "b.csv", BRANCHES_CSV))])
    result = runner.invoke(
        cli, ["users", "create", "--username", "someone", *args], input="a long password\n"
    )
    assert result.exit_code == 2
    assert message in result.output

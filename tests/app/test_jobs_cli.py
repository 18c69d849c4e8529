"""The command line: a round prints its phases with percent and ETA on stderr; `o2o jobs`
lists, shows and cancels the jobs the pages and the API queued."""

from __future__ import annotations

from click.testing import Result
from sqlalchemy.engine import Engine
from typer.testing import CliRunner

from app.cli import cli
from app.config import Settings
from app.rounds.job import start_round_job
from app.rounds.service import RoundParams
from tests.app.rounds_world import pooled, round_cli

__all__ = ["pooled", "round_cli"]  # fixtures


def _o2o(*args: str) -> Result:
    return CliRunner().invoke(cli, list(args))


def test_a_round_from_the_command_line_prints_each_phase_with_percent_and_eta(
    round_cli: Settings, pooled: dict[str, int]
) -> None:
    result = _o2o("round", "run", "--commit")
    assert result.exit_code == 0, result.output
    progress = [line for line in result.stderr.splitlines() if line.startswith("round: ")]
    assert [line.split()[1] for line in progress] == ["pool", "solve", "store", "commit"]
    assert " 0%," in progress[0]
    assert " 50%," in progress[2]
    assert "ETA" in progress[3]
    assert "committed" in result.stdout


def test_jobs_are_listed_shown_and_cancelled_from_the_command_line(
    round_cli: Settings, engine: Engine, pooled: dict[str, int]
) -> None:
    queued = round_cli.model_copy(update={"job_workers_in_process": 0})
    job_id = start_round_job(
        engine, settings=queued, actor="hq1", params=RoundParams(), commit=False
    )
    listed = _o2o("jobs", "list")
    assert f"job {job_id}: round queued, not started, 0%, by hq1" in listed.stdout
    assert _o2o("jobs", "cancel", str(job_id)).exit_code == 0
    shown = _o2o("jobs", "show", str(job_id))
    assert "round cancelled" in shown.stdout
    refused = _o2o("jobs", "cancel", str(job_id))
    assert refused.exit_code == 2
    assert "can no longer be cancelled" in refused.stderr
    assert _o2o("jobs", "show", "999").exit_code == 2

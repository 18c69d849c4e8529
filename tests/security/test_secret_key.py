"""`o2o serve` refuses a signing key that anyone could know (issue 13, finding 2)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import uvicorn
from typer.testing import CliRunner

from app.cli import cli
from app.config import INSECURE_DEV_SECRET, get_settings

runner = CliRunner()
RANDOM_KEY = "k3J9-q2ZxV8mPw4RtY7uN1bC6dF0gH5sLaE_oIyT"


@pytest.fixture
def served(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[dict[str, Any]]]:
    """Records the server `o2o serve` would start instead of starting it."""
    calls: list[dict[str, Any]] = []
    monkeypatch.setattr(uvicorn, "run", lambda *args, **kwargs: calls.append(kwargs))
    monkeypatch.delenv("O2O_SECRET_KEY", raising=False)
    monkeypatch.delenv("O2O_DEMO_MODE", raising=False)
    monkeypatch.chdir("/")  # no .env file of the checkout
    get_settings.cache_clear()
    yield calls
    get_settings.cache_clear()


def test_serve_refuses_to_start_on_the_default_development_key(served: list[Any]) -> None:
    result = runner.invoke(cli, ["serve"])
    assert result.exit_code == 2
    assert "O2O_SECRET_KEY is the published development key" in result.output
    assert served == []


def test_serve_refuses_the_development_key_set_explicitly(
    served: list[Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("O2O_SECRET_KEY", INSECURE_DEV_SECRET)
    result = runner.invoke(cli, ["serve"])
    assert result.exit_code == 2
    assert served == []


def test_serve_refuses_a_guessable_key_of_enough_length(
    served: list[Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("O2O_SECRET_KEY", "a" * 40)
    result = runner.invoke(cli, ["serve"])
    assert result.exit_code == 2
    assert "can be guessed" in result.output
    assert served == []


def test_the_cli_refuses_a_key_that_is_too_short_naming_the_variable(
    served: list[Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    from app.cli import main

    monkeypatch.setenv("O2O_SECRET_KEY", "short-key")
    monkeypatch.setattr("sys.argv", ["o2o", "serve"])
    with pytest.raises(SystemExit) as exited:
        main()
    assert exited.value.code == 2
    assert served == []


def test_serve_starts_with_a_random_key(served: list[Any], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("O2O_SECRET_KEY", RANDOM_KEY)
    result = runner.invoke(cli, ["serve"])
    assert result.exit_code == 0, result.output
    assert len(served) == 1


@pytest.mark.parametrize("how", ["flag", "environment"])
def test_demo_mode_allows_the_development_key_with_a_warning(
    served: list[Any], monkeypatch: pytest.MonkeyPatch, how: str
) -> None:
    args = ["serve"]
    if how == "flag":
        args.append("--demo")
    else:
        monkeypatch.setenv("O2O_DEMO_MODE", "1")
    result = runner.invoke(cli, args)
    assert result.exit_code == 0, result.output
    assert "warning: demo mode" in result.output
    assert len(served) == 1

"""No 5xx on any input: Schemathesis fuzzes every operation of /openapi.json, once per role.

The application runs in-process (ASGI) over the security world: branches, leads, a closed month
with statements, one signed-in actor per role. Every generated request carries that role's
bearer token (none for the anonymous caller), so the fuzzer reaches the handlers behind the
role checks as well as the refusals in front of them. Each operation gets valid (positive) and
invalid (negative) requests; the check is Schemathesis's `not_a_server_error`.

Schemathesis's lazy pytest loader (`schemathesis.pytest.from_fixture`) does not run under
pytest 9.2 (it uses `Node._nodeid`, which is gone), so each test drives the operations' Hypothesis
strategies itself, the way Schemathesis documents for use with `@given`.

CI runs a few examples per operation and mode on SQLite; the manual job raises the count and
runs on PostgreSQL as well:

    O2O_SCHEMATHESIS_EXAMPLES=1000 O2O_TEST_POSTGRES_URL=postgresql://... \\
        .venv/bin/python -m pytest -m manual -s tests/security/test_schemathesis.py
"""

from __future__ import annotations

import contextlib
import os
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error

from app.config import Settings
from tests.security.conftest import SecurityWorld

CI_EXAMPLES = 8
MANUAL_EXAMPLES = int(os.environ.get("O2O_SCHEMATHESIS_EXAMPLES", "300"))
# The callers: a stranger, a branch user, headquarters, finance and an auditor.
ROLES = ("anonymous", "branch_a", "hq", "finance", "auditor")


class Tally:
    """Requests sent and server errors seen, per role: the figures each test prints."""

    def __init__(self) -> None:
        self.requests = 0
        self.server_errors = 0


def fuzz(world: SecurityWorld, *, examples: int) -> dict[str, Tally]:
    """Every operation, positive and negative, `examples` cases each, every case sent once per
    role (generating is the slow part, so the roles share it); fails on any 5xx."""
    schema = schemathesis.openapi.from_asgi("/openapi.json", world.app)
    tallies = {role: Tally() for role in ROLES}
    for result in schema.get_all_operations():
        operation = result.ok()
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            _fuzz_operation(operation, mode, world=world, tallies=tallies, examples=examples)
    for role, tally in tallies.items():
        print(
            f"\nmetric=server_errors value={tally.server_errors} threshold=0 "
            f"requests={tally.requests} role={role}",
            end="",
        )
    print()
    return tallies


def _fuzz_operation(
    operation: Any,
    mode: GenerationMode,
    *,
    world: SecurityWorld,
    tallies: dict[str, Tally],
    examples: int,
) -> None:
    @hypothesis_settings(
        max_examples=examples,
        deadline=None,
        derandomize=True,  # the same requests on every run: a CI failure reproduces
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(case=operation.as_strategy(generation_mode=mode))
    def send(case: Any) -> None:
        for role, tally in tallies.items():
            response = case.call(headers=dict(world.actors[role].api_headers))
            tally.requests += 1
            if response.status_code >= 500:
                tally.server_errors += 1
            case.validate_response(response, checks=[not_a_server_error])

    # Unsatisfiable: nothing invalid can be said to an operation without parameters or body.
    with contextlib.suppress(Unsatisfiable):
        send()


def test_no_server_error_for_any_role(settings: Settings, security_world: SecurityWorld) -> None:
    if not settings.database_url.startswith("sqlite"):
        pytest.skip("CI fuzzes on SQLite; the manual job (-m manual) covers PostgreSQL")
    tallies = fuzz(security_world, examples=CI_EXAMPLES)
    assert all(tally.server_errors == 0 for tally in tallies.values())
    # Every operation was reached by every role, valid and invalid requests alike.
    assert all(tally.requests >= 20 * CI_EXAMPLES for tally in tallies.values())


@pytest.mark.manual
def test_no_server_error_for_any_role_at_length(security_world: SecurityWorld) -> None:
    tallies = fuzz(security_world, examples=MANUAL_EXAMPLES)
    assert all(tally.server_errors == 0 for tally in tallies.values())

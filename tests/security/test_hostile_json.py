"""JSON that Python parses but cannot write back answers 422, never 500 (issue 13, finding 8).

`json.loads` accepts `NaN`, `Infinity` and `1e309` (an infinite float) and lone surrogates such
as `"\\ud800"`; the validation error used to echo them into a response that could not be encoded.
The bodies are sent as raw text, exactly as an attacker would.
"""

from __future__ import annotations

import json

import pytest

from tests.security.conftest import SecurityWorld

NUMBERS = ["NaN", "-NaN", "Infinity", "-Infinity", "1e309", "-1e309"]
LONE_SURROGATE = '"\\ud800"'


def post_raw(world: SecurityWorld, path: str, body: str, actor: str) -> object:
    headers = {**world.actors[actor].api_headers, "Content-Type": "application/json"}
    return world.api.post(path, content=body.encode(), headers=headers)


@pytest.mark.parametrize("number", NUMBERS)
def test_a_non_finite_number_in_a_round_request_gets_422(
    security_world: SecurityWorld, number: str
) -> None:
    response = post_raw(security_world, "/api/v1/rounds", f'{{"balance_weight": {number}}}', "hq")
    assert response.status_code == 422, response.text
    echoed = json.dumps(response.json())
    assert "NaN" not in echoed  # strict JSON came back
    assert "Infinity" not in echoed


@pytest.mark.parametrize("number", NUMBERS)
def test_a_non_finite_number_where_an_integer_belongs_gets_422(
    security_world: SecurityWorld, number: str
) -> None:
    body = (
        '{"policy_id": "P", "revenue_type": "brokerage_commission", '
        f'"valid_from": "2026-01-01", "branch_bps": {number}, "agent_bps": 0, "hq_bps": 0}}'
    )
    response = post_raw(security_world, "/api/v1/ledger/policies", body, "finance")
    assert response.status_code == 422, response.text


def test_a_lone_surrogate_in_a_string_that_fails_validation_gets_422(
    security_world: SecurityWorld,
) -> None:
    body = '{"balance_weight": ' + LONE_SURROGATE + "}"
    response = post_raw(security_world, "/api/v1/rounds", body, "hq")
    assert response.status_code == 422, response.text
    assert "\\ud800" in response.text or "\\\\ud800" in response.text


def test_a_lone_surrogate_in_a_free_text_field_gets_422(
    security_world: SecurityWorld,
) -> None:
    body = '{"reason": ' + LONE_SURROGATE + "}"
    response = post_raw(security_world, "/api/v1/ledger/entries/1/reverse", body, "finance")
    assert response.status_code == 422, response.text


def test_a_lone_surrogate_in_a_key_gets_422(security_world: SecurityWorld) -> None:
    body = '{"balance_weight": 0, ' + LONE_SURROGATE + ": 1}"
    response = post_raw(security_world, "/api/v1/rounds", body, "hq")
    assert response.status_code == 422, response.text

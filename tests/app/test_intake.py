"""Channel systems push leads over the API with per-channel keys (issue: real-time intake)."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import select
from typer.testing import CliRunner

from app.cli import cli
from app.config import Settings, get_settings
from app.db import session_scope
from app.intake.keys import issue_key, rotate_keys
from app.tables import AuditRecord, Lead
from tests.app.holdings_world import World

URL = "/api/v1/intake/leads"


def _key(engine: Engine, channel: str = "wechat") -> str:
    with session_scope(engine) as session:
        return issue_key(session, channel=channel, actor="hq-test").token


def _post(client: TestClient, key: str, *leads: dict[str, object]) -> object:
    return client.post(URL, json={"leads": list(leads)}, headers={"X-API-Key": key})


def test_a_channel_pushes_a_lead_and_a_replay_changes_nothing(
    client: TestClient, engine: Engine, branch_ids: dict[str, int]
) -> None:
    key = _key(engine)
    lead = {"external_id": "W-1", "mobile": "13800138000", "lat": 22.54, "lon": 114.05,
            "name": "王芳", "tier": "affluent"}  # fmt: skip
    first = _post(client, key, lead)
    assert first.status_code == 200, first.text  # type: ignore[attr-defined]
    body = first.json()  # type: ignore[attr-defined]
    assert (body["channel"], body["created"], body["unchanged"]) == ("wechat", 1, 0)
    assert body["leads"][0]["outcome"] == "created"
    again = _post(client, key, lead).json()  # type: ignore[attr-defined]
    assert (again["created"], again["unchanged"]) == (0, 1)
    with session_scope(engine) as session:
        stored = session.exec(select(Lead)).one()
        records = session.exec(
            select(AuditRecord).where(AuditRecord.action == "intake.leads")
        ).all()
    assert (stored.channel, stored.external_id, stored.tier, stored.status) == (
        "wechat", "W-1", "affluent", "new",
    )  # fmt: skip
    assert stored.location_source == "coordinates"
    assert len(records) == 2


def test_a_bad_item_rejects_the_whole_batch_naming_item_and_field(
    client: TestClient, engine: Engine, branch_ids: dict[str, int]
) -> None:
    key = _key(engine)
    response = _post(client, key, {"external_id": "W-1", "mobile": "13800138000"},
                     {"external_id": "W-2", "mobile": "1234"})  # fmt: skip
    assert response.status_code == 422  # type: ignore[attr-defined]
    errors = response.json()["errors"]  # type: ignore[attr-defined]
    assert [(e["line"], e["column"]) for e in errors] == [(2, "mobile")]
    with session_scope(engine) as session:
        assert session.exec(select(Lead)).all() == []


def test_a_missing_wrong_or_revoked_key_is_refused(
    client: TestClient, engine: Engine, branch_ids: dict[str, int]
) -> None:
    lead = {"external_id": "W-1"}
    assert _post(client, "", lead).status_code == 401  # type: ignore[attr-defined]
    key = _key(engine)
    forged = key[:-4] + "AAAA"
    assert _post(client, forged, lead).status_code == 401  # type: ignore[attr-defined]
    with session_scope(engine) as session:
        new = rotate_keys(session, channel="wechat", actor="hq-test").token
    assert _post(client, key, lead).status_code == 401  # type: ignore[attr-defined]
    assert _post(client, new, lead).status_code == 200  # type: ignore[attr-defined]


def test_a_batch_is_at_most_a_thousand_leads(
    client: TestClient, engine: Engine, branch_ids: dict[str, int]
) -> None:
    key = _key(engine)
    leads = [{"external_id": f"W-{i}"} for i in range(1001)]
    assert _post(client, key, *leads).status_code == 422  # type: ignore[attr-defined]


def test_a_returning_customer_joins_its_owner_at_once(
    client: TestClient, engine: Engine, settings: Settings, tmp_path: Path
) -> None:
    world = World(engine, settings, tmp_path)
    world.branches()
    world.leads("A1,22.545,114.055,mass,13800138001\n")
    world.solve(commit=True)
    body = _post(client, _key(engine, "alipay"),
                 {"external_id": "P-9", "mobile": "13800138001"}).json()  # type: ignore[attr-defined]  # fmt: skip
    assert (body["linked"], body["leads"][0]["status"], body["leads"][0]["branch_code"]) == (
        1, "assigned", "NEAR",
    )  # fmt: skip


def test_a_mixed_batch_says_per_lead_what_happened_in_batch_order(
    client: TestClient, engine: Engine, settings: Settings, tmp_path: Path
) -> None:
    """Re-sent, new, and new for an owned customer, in one batch: the outcomes come back in the
    batch's order whatever order the leads were stored in."""
    world = World(engine, settings, tmp_path)
    world.branches()
    world.leads("A1,22.545,114.055,mass,13800138001\n")
    world.solve(commit=True)
    key = _key(engine, "alipay")
    _post(client, key, {"external_id": "P-1", "mobile": "13800138002"})
    body = _post(client, key,
                 {"external_id": "P-3", "mobile": "13800138001"},  # its customer has an owner
                 {"external_id": "P-1", "mobile": "13800138002"},  # sent before
                 {"external_id": "P-2", "mobile": "13800138003"}).json()  # type: ignore[attr-defined]  # fmt: skip
    got = [(x["external_id"], x["outcome"], x["status"], x["routed"]) for x in body["leads"]]
    assert got == [
        ("P-3", "created", "assigned", False),  # joined NEAR, its owner
        ("P-1", "unchanged", "assigned", False),  # routed by the first request
        ("P-2", "created", "assigned", True),
    ]
    assert body["leads"][0]["branch_code"] == "NEAR"
    assert (body["created"], body["unchanged"], body["linked"], body["routed"]) == (2, 1, 1, 1)


def test_hq_manages_channel_keys_from_the_command_line(
    engine: Engine, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("O2O_DATABASE_URL", settings.database_url)
    monkeypatch.setenv("O2O_SECRET_KEY", settings.secret_key)
    get_settings.cache_clear()
    runner = CliRunner()
    try:
        created = runner.invoke(cli, ["channels", "create", "app"])
        assert created.exit_code == 0, created.output
        token = created.stdout.strip().splitlines()[-1]
        key_id = token.split("_")[1]
        listed = runner.invoke(cli, ["channels", "list"]).output
        assert f"{key_id}" in listed
        assert "live" in listed
        assert token.split("_", 2)[2] not in listed  # the secret is never shown again
        assert runner.invoke(cli, ["channels", "revoke", key_id]).exit_code == 0
        assert "revoked" in runner.invoke(cli, ["channels", "list"]).output
        assert runner.invoke(cli, ["channels", "revoke", key_id]).exit_code == 2
    finally:
        get_settings.cache_clear()

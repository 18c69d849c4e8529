"""Personal data (PIPL): mobiles sealed at rest, one person's data exported and erased.

The world is the one of tests/security/test_privacy.py: four leads with known numbers
imported through the real importer, allocated by a committed round, credited with revenue.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
import uvicorn
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlmodel import select
from typer.testing import CliRunner

from app.auth import Principal
from app.cli import cli
from app.config import Settings, get_settings
from app.db import make_engine, session_scope
from app.leads import service
from app.leads.importer import import_leads
from app.leads.reveal import reveal_mobile
from app.privacy import subjects
from app.privacy.cipher import DataKeyError, MobileCipher
from app.tables import Customer, Lead
from tests.app.conftest import branch_ids, client, engine, login
from tests.app.factories import write
from tests.security.privacy_world import LEADS_CSV, MOBILES, world

__all__ = ["branch_ids", "client", "engine", "world"]

HQ = Principal(user_id=0, username="hq1", role="hq", branch_id=None, branch_code=None)
SECRET_FIELDS = re.compile(r"1[3-9]\d{9}|客户")
runner = CliRunner()


def _lead(engine: Engine, external_id: str) -> Lead:
    with session_scope(engine) as session:
        lead = session.exec(select(Lead).where(Lead.external_id == external_id)).one()
        session.expunge(lead)
        return lead


def _counts(engine: Engine) -> dict[str, int]:
    tables = ("lead", "customer", "ownership", "revenue_event", "ledger_entry", "ledger_posting")
    with engine.connect() as conn:
        return {
            t: int(conn.execute(text(f"SELECT count(*) FROM {t}")).scalar_one()) for t in tables
        }


def _audit_rows(engine: Engine) -> list[tuple[int, str, str, str | None]]:
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT id, action, detail, entity_id FROM audit_log ORDER BY id"))
        return [(int(r[0]), str(r[1]), str(r[2]), r[3]) for r in rows]


def _erase(engine: Engine, settings: Settings, mobile: str) -> list[int]:
    with session_scope(engine) as session:
        return subjects.erase_subject(
            session, mobile=mobile, reason="customer asked (ticket 42)",
            secret=settings.customer_key, actor="hq1",
        )  # fmt: skip


# --- Mobile numbers at rest -------------------------------------------------------------


def test_the_database_never_holds_a_plain_mobile_after_an_import(
    engine: Engine, world: int
) -> None:
    with engine.connect() as conn:
        stored = [str(m) for (m,) in conn.execute(text("SELECT mobile FROM lead"))]
        every_text = " ".join(
            " ".join(str(v) for v in row) for row in conn.execute(text("SELECT * FROM lead"))
        )
    assert len(stored) == len(MOBILES)
    assert all(m.startswith("v1:") for m in stored)
    assert not any(mobile in every_text for mobile in MOBILES.values())


def test_hq_reads_and_reveals_the_full_number_a_branch_user_sees_the_mask(
    engine: Engine, world: int
) -> None:
    lead = _lead(engine, "L1")
    assert lead.id is not None
    assert lead.branch_id is not None
    branch = Principal(
        user_id=0, username="sz1", role="branch", branch_id=lead.branch_id, branch_code=None
    )
    with session_scope(engine) as session:
        as_hq = service.get_lead(session, principal=HQ, lead_id=lead.id)
        as_branch = service.get_lead(session, principal=branch, lead_id=lead.id)
        revealed = reveal_mobile(session, principal=branch, lead_id=lead.id, limit_per_hour=5)
    assert as_hq.mobile == MOBILES["L1"]
    assert as_branch.mobile == MOBILES["L1"][:3] + "****" + MOBILES["L1"][-4:]
    assert revealed == MOBILES["L1"]


def test_a_wrong_data_key_fails_loudly_instead_of_reading_wrong_numbers(
    engine: Engine, settings: Settings, world: int
) -> None:
    lead_id = _lead(engine, "L1").id
    assert lead_id is not None
    other = make_engine(settings.model_copy(update={"data_key": "ab" * 32}))
    try:
        with session_scope(other) as session, pytest.raises(DataKeyError, match="O2O_DATA_KEY"):
            service.get_lead(session, principal=HQ, lead_id=lead_id)
    finally:
        other.dispose()


def test_serve_refuses_a_data_key_that_does_not_open_the_stored_numbers(
    settings: Settings, world: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    started: list[object] = []
    monkeypatch.setattr(uvicorn, "run", lambda *args, **kwargs: started.append(kwargs))
    _cli_env(monkeypatch, settings)
    monkeypatch.setenv("O2O_DATA_KEY", "ab" * 32)
    refused = CliRunner().invoke(cli, ["serve"])
    assert refused.exit_code == 2
    assert "O2O_DATA_KEY" in refused.output
    assert started == []
    monkeypatch.delenv("O2O_DATA_KEY")  # back to the key the world was sealed with
    get_settings.cache_clear()
    assert CliRunner().invoke(cli, ["serve"]).exit_code == 0
    assert len(started) == 1


def test_a_data_key_that_is_not_32_bytes_is_refused_at_startup(settings: Settings) -> None:
    with pytest.raises(ValueError, match="32 bytes"):
        Settings(database_url=settings.database_url, data_key="c2hvcnQ=", _env_file=None)  # type: ignore[call-arg]


def test_plain_numbers_from_before_encryption_are_read_and_sealed_by_seal_plain(
    engine: Engine, settings: Settings, world: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    lead_id = _lead(engine, "L2").id
    with engine.begin() as conn:
        conn.execute(
            text("UPDATE lead SET mobile = :m WHERE id = :id"), {"m": MOBILES["L2"], "id": lead_id}
        )
    with session_scope(engine) as session:
        assert service.get_lead(session, principal=HQ, lead_id=lead_id or 0).mobile == MOBILES["L2"]
    _cli_env(monkeypatch, settings)
    result = runner.invoke(cli, ["privacy", "seal-plain"])
    assert result.exit_code == 0, result.output
    assert "1 mobile number(s) sealed" in result.output
    assert _lead(engine, "L2").mobile.startswith("v1:")  # type: ignore[union-attr]
    with session_scope(engine) as session:
        assert service.get_lead(session, principal=HQ, lead_id=lead_id or 0).mobile == MOBILES["L2"]


# --- Export ----------------------------------------------------------------------------------


def test_export_lists_a_persons_leads_ownership_revenue_and_audit_and_is_audited(
    engine: Engine, settings: Settings, world: int, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    lead = _lead(engine, "L1")
    assert lead.id is not None
    with session_scope(engine) as session:  # an audit record about the lead
        reveal_mobile(session, principal=HQ, lead_id=lead.id, limit_per_hour=5)
    _cli_env(monkeypatch, settings)
    out = tmp_path / "subject.json"
    result = runner.invoke(cli, ["privacy", "export", "--mobile", MOBILES["L1"], "--out", str(out)])
    assert result.exit_code == 0, result.output
    held = json.loads(out.read_text(encoding="utf-8"))
    assert [(x["id"], x["external_id"], x["mobile"], x["name"]) for x in held["leads"]] == [
        (lead.id, "L1", MOBILES["L1"], "客户L1")
    ]
    assert [o["lead_id"] for o in held["ownership"]] == [lead.id]
    assert [(e["event_id"], e["amount_fen"]) for e in held["revenue_events"]] == [("E-L1", 1234)]
    assert "lead.reveal_mobile" in {r["action"] for r in held["audit_records"]}
    last = _audit_rows(engine)[-1]
    assert last[1] == "privacy.export"
    assert json.loads(last[2]) == {"lead_ids": [lead.id]}


def test_hq_exports_a_person_over_the_api_and_a_branch_user_may_not(
    client: TestClient, world: int
) -> None:
    body = {"mobile": MOBILES["L3"]}
    as_branch = client.post(
        "/api/v1/privacy/subjects/export", json=body, headers=login(client, "sz1")
    )
    assert as_branch.status_code == 403
    as_hq = client.post("/api/v1/privacy/subjects/export", json=body, headers=login(client, "hq1"))
    assert as_hq.status_code == 200, as_hq.text
    assert [x["external_id"] for x in as_hq.json()["leads"]] == ["L3"]


# --- Erasure ---------------------------------------------------------------------------------


def test_erasure_blanks_the_person_and_keeps_ids_ownership_ledger_and_audit(
    engine: Engine, settings: Settings, world: int
) -> None:
    before, audit_before = _counts(engine), _audit_rows(engine)
    kept = _lead(engine, "L1")
    erased_ids = _erase(engine, settings, MOBILES["L1"])
    lead = _lead(engine, "L1")
    assert erased_ids == [kept.id]
    assert (lead.name, lead.mobile, lead.lat, lead.lon) == (None, None, None, None)
    assert lead.erased_at is not None
    assert (lead.id, lead.status, lead.branch_id, lead.customer_id, lead.region_code) == (
        kept.id, kept.status, kept.branch_id, kept.customer_id, kept.region_code,
    )  # fmt: skip
    assert _counts(engine) == before
    audit_after = _audit_rows(engine)
    assert audit_after[: len(audit_before)] == audit_before  # nothing rewritten
    [(_, action, detail, _)] = audit_after[len(audit_before) :]
    assert action == "privacy.erase"
    assert json.loads(detail) == {"lead_ids": [kept.id], "reason": "customer asked (ticket 42)"}
    with session_scope(engine) as session:
        customer = session.get(Customer, kept.customer_id)
        assert customer is not None
        assert customer.customer_key.startswith("erased:")
        assert (
            subjects.export_subject(
                session, mobile=MOBILES["L1"], secret=settings.customer_key, actor="hq1"
            )["leads"]
            == []
        )


def test_new_privacy_audit_records_hold_no_number_and_no_name(
    engine: Engine, settings: Settings, world: int
) -> None:
    with session_scope(engine) as session:
        subjects.export_subject(
            session, mobile=MOBILES["L2"], secret=settings.customer_key, actor="hq1"
        )
    _erase(engine, settings, MOBILES["L2"])
    privacy = [r for r in _audit_rows(engine) if r[1].startswith("privacy.")]
    assert [r[1] for r in privacy] == ["privacy.export", "privacy.erase"]
    assert not any(SECRET_FIELDS.search(detail) for _, _, detail, _ in privacy)


def test_an_erased_lead_shows_as_erased_in_the_api_and_its_page(
    client: TestClient, engine: Engine, settings: Settings, world: int
) -> None:
    _erase(engine, settings, MOBILES["L1"])
    lead_id = _lead(engine, "L1").id
    read = client.get(f"/api/v1/leads/{lead_id}", headers=login(client, "hq1")).json()
    assert (read["name"], read["mobile"], read["erased"], read["lat"]) == (
        "(erased)",
        None,
        True,
        None,
    )
    listing = client.get("/api/v1/leads", headers=login(client, "hq1"))
    assert listing.status_code == 200
    assert "(erased)" in listing.text
    revealed = client.post(f"/api/v1/leads/{lead_id}/reveal", headers=login(client, "hq1"))
    assert revealed.status_code == 200
    assert revealed.json()["mobile"] is None


def test_erasing_a_number_nobody_holds_is_404_not_a_crash(
    engine: Engine, settings: Settings, world: int, client: TestClient
) -> None:
    _erase(engine, settings, MOBILES["L4"])
    again = client.post(
        "/api/v1/privacy/subjects/erase",
        json={"mobile": MOBILES["L4"], "reason": "twice"},
        headers=login(client, "hq1"),
    )
    assert again.status_code == 404


def test_reimporting_an_erased_leads_row_keeps_it_erased_and_unlinked(
    engine: Engine, settings: Settings, world: int, tmp_path: Path
) -> None:
    _erase(engine, settings, MOBILES["L1"])
    customers_before = _counts(engine)["customer"]
    with session_scope(engine) as session:
        report = import_leads(
            session, path=write(tmp_path, "again.csv", LEADS_CSV), actor="test",
            secret=settings.customer_key, channel="app",
        )  # fmt: skip
    assert report.inserted == 0
    lead = _lead(engine, "L1")
    assert (lead.name, lead.mobile) == (None, None)
    assert _counts(engine)["customer"] == customers_before  # the keyed hash did not come back
    with session_scope(engine) as session:
        held = subjects.export_subject(
            session, mobile=MOBILES["L1"], secret=settings.customer_key, actor="hq1"
        )
    assert held["leads"] == []


def _cli_env(monkeypatch: pytest.MonkeyPatch, settings: Settings) -> None:
    monkeypatch.setenv("O2O_DATABASE_URL", settings.database_url)
    monkeypatch.setenv("O2O_SECRET_KEY", settings.secret_key)
    get_settings.cache_clear()


@pytest.fixture(autouse=True)
def _fresh_cli_settings() -> Iterator[None]:
    yield
    get_settings.cache_clear()


def test_the_same_number_sealed_twice_gives_different_ciphertexts_that_both_open() -> None:
    cipher = MobileCipher(bytes(range(32)))
    first, second = cipher.seal(MOBILES["L1"]), cipher.seal(MOBILES["L1"])
    assert first != second
    assert cipher.open(first) == cipher.open(second) == MOBILES["L1"]
    with pytest.raises(DataKeyError):
        MobileCipher(bytes(32)).open(first)


def test_o2o_privacy_erase_erases_over_the_terminal_and_refuses_a_missing_reason(
    engine: Engine, settings: Settings, world: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    _cli_env(monkeypatch, settings)
    lead_id = _lead(engine, "L3").id
    blank = runner.invoke(cli, ["privacy", "erase", "--mobile", MOBILES["L3"], "--reason", " "])
    assert blank.exit_code == 2
    assert "reason" in blank.output
    done = runner.invoke(cli, ["privacy", "erase", "--mobile", MOBILES["L3"], "--reason", "asked"])
    assert done.exit_code == 0, done.output
    assert done.output.strip() == f"privacy erase: 1 lead(s) erased: {lead_id}"
    assert _lead(engine, "L3").erased_at is not None

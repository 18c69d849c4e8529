"""Corrections above O2O_CORRECTION_APPROVAL_FEN need a second finance user, on every path:
the service, the API and the CLI (the pages: tests/web/test_suspense_pages.py)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError

from app.config import Settings
from app.db import session_scope
from app.errors import Conflict, Forbidden, NotFound
from app.journal import service
from app.journal.schemas import CorrectionRequestRead, EntryRead
from app.main import create_app
from tests.app.factories import add_user
from tests.app.ledger_corrections import EVENTS, NOVEMBER, entry_id
from tests.app.ledger_world import auth, import_csv, o2o, runner, scalar

LOW = 1_000  # fen: C-1 (1,234) and C-2 (2,001) need approval, C-3 (100) does not


@pytest.fixture
def low(settings: Settings) -> Settings:
    return settings.model_copy(update={"correction_approval_fen": LOW})


def _reclassify(engine: Engine, low: Settings, event: str, *, actor: str = "fin1") -> object:
    with session_scope(engine) as session:
        return service.reclassify_event(session, event_id=event, branch_code="SZ-FT",
                                        reason="客户属于福田", actor=actor, settings=low,
                                        now=NOVEMBER)  # fmt: skip


def _decide(engine: Engine, request: int, *, actor: str, approve: bool = True) -> object:
    with session_scope(engine) as session:
        if approve:
            return service.approve_correction(session, request_id=request, actor=actor,
                                              now=NOVEMBER)  # fmt: skip
        return service.reject_correction(session, request_id=request, actor=actor, now=NOVEMBER)


def _adjustments(engine: Engine) -> int:
    return int(str(scalar(engine, "SELECT COUNT(*) FROM ledger_entry WHERE kind <> 'credit'")))


def test_a_correction_at_or_below_the_threshold_is_posted_at_once(
    ledger_engine: Engine, tmp_path: Path, low: Settings
) -> None:
    import_csv(ledger_engine, tmp_path, EVENTS)
    done = _reclassify(ledger_engine, low, "C-3")
    assert isinstance(done, EntryRead)
    assert scalar(ledger_engine, "SELECT COUNT(*) FROM ledger_correction_request") == 0


def test_above_the_threshold_a_second_finance_user_approves_and_only_then_it_is_posted(
    ledger_engine: Engine, tmp_path: Path, low: Settings
) -> None:
    import_csv(ledger_engine, tmp_path, EVENTS)
    asked = _reclassify(ledger_engine, low, "C-1")
    assert isinstance(asked, CorrectionRequestRead)
    assert (asked.status, asked.amount_fen, asked.requested_by) == ("pending", 1234, "fin1")
    assert _adjustments(ledger_engine) == 0
    with pytest.raises(Forbidden, match="your own"):
        _decide(ledger_engine, asked.id, actor="fin1")
    with pytest.raises(Forbidden, match="your own"):
        _decide(ledger_engine, asked.id, actor="fin1", approve=False)
    assert _adjustments(ledger_engine) == 0
    posted = _decide(ledger_engine, asked.id, actor="fin2")
    assert isinstance(posted, EntryRead)
    assert posted.business_key == "adjustment:C-1:1"
    listed = _listed(ledger_engine)
    assert [(r.status, r.decided_by, r.entry_id) for r in listed] == [
        ("approved", "fin2", posted.id)
    ]
    with pytest.raises(Conflict, match="already approved"):
        _decide(ledger_engine, asked.id, actor="fin3")
    assert _audited(ledger_engine) == [
        ("ledger.correction_request", "fin1"), ("ledger.reclassify", "fin2"),
        ("ledger.correction_approve", "fin2"),
    ]  # fmt: skip


def _listed(engine: Engine) -> list[CorrectionRequestRead]:
    with session_scope(engine) as session:
        return service.list_corrections(session).items


def _audited(engine: Engine) -> list[tuple[str, str]]:
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT action, actor FROM audit_log WHERE action LIKE "
                                 "'ledger.%' AND action <> 'ledger.import' ORDER BY id"))  # fmt: skip
        return [(str(a), str(b)) for a, b in rows]


def test_a_rejected_request_posts_nothing_and_a_request_is_asked_once(
    ledger_engine: Engine, tmp_path: Path, low: Settings
) -> None:
    import_csv(ledger_engine, tmp_path, EVENTS)
    asked = _reclassify(ledger_engine, low, "C-2")
    assert isinstance(asked, CorrectionRequestRead)
    with pytest.raises(Conflict, match="already waits for approval"):
        _reclassify(ledger_engine, low, "C-2", actor="fin2")
    raised = low.model_copy(update={"correction_approval_fen": 10**9})  # the line moved
    with pytest.raises(Conflict, match="already waits for approval"):
        _reclassify(ledger_engine, raised, "C-2", actor="fin2")
    rejected = _decide(ledger_engine, asked.id, actor="fin2", approve=False)
    assert isinstance(rejected, CorrectionRequestRead)
    assert rejected.status == "rejected"
    assert _adjustments(ledger_engine) == 0
    with pytest.raises(NotFound, match="no correction request 999"):
        _decide(ledger_engine, 999, actor="fin2")
    again = _reclassify(ledger_engine, low, "C-2", actor="fin2")  # asked anew after a rejection
    assert isinstance(again, CorrectionRequestRead)
    assert again.id != asked.id


def test_a_refused_correction_is_not_stored_as_a_request(
    ledger_engine: Engine, tmp_path: Path, low: Settings
) -> None:
    import_csv(ledger_engine, tmp_path, EVENTS)
    with pytest.raises(Conflict, match="not in suspense"):
        _reclassify(ledger_engine, low, "A-1")
    assert scalar(ledger_engine, "SELECT COUNT(*) FROM ledger_correction_request") == 0


def test_a_reversal_above_the_threshold_waits_too(
    ledger_engine: Engine, tmp_path: Path, low: Settings
) -> None:
    import_csv(ledger_engine, tmp_path, EVENTS)
    credit = entry_id(ledger_engine, "revenue:C-2")
    with session_scope(ledger_engine) as session:
        asked = service.reverse_entry(session, entry_id=credit, reason="重复入账", actor="fin1",
                                      settings=low, now=NOVEMBER)  # fmt: skip
    assert isinstance(asked, CorrectionRequestRead)
    assert (asked.kind, asked.target, asked.amount_fen) == ("reverse", str(credit), 2001)
    posted = _decide(ledger_engine, asked.id, actor="fin2")
    assert isinstance(posted, EntryRead)
    assert posted.kind == "reversal"


def test_the_database_refuses_a_decision_by_the_requester(
    ledger_engine: Engine, tmp_path: Path, low: Settings
) -> None:
    import_csv(ledger_engine, tmp_path, EVENTS)
    asked = _reclassify(ledger_engine, low, "C-1")
    assert isinstance(asked, CorrectionRequestRead)
    sql = ("UPDATE ledger_correction_request SET status = 'rejected', decided_by = "
           "requested_by, decided_at = requested_at WHERE id = :id")  # fmt: skip
    with pytest.raises(IntegrityError), session_scope(ledger_engine) as session:
        session.execute(text(sql), {"id": asked.id})


@pytest.fixture
def low_api(low: Settings, ledger_engine: Engine) -> Iterator[TestClient]:
    for username in ("fin1", "fin2"):
        add_user(ledger_engine, username, "finance")
    add_user(ledger_engine, "aud1", "auditor")
    app = create_app(low)
    with TestClient(app) as client:
        yield client
    app.state.engine.dispose()


def test_over_the_api_the_requester_cannot_approve_and_another_finance_user_can(
    low_api: TestClient, ledger_engine: Engine, tmp_path: Path
) -> None:
    import_csv(ledger_engine, tmp_path, EVENTS)
    fin1, fin2, aud = auth(low_api, "fin1"), auth(low_api, "fin2"), auth(low_api, "aud1")
    body = {"branch_code": "SZ-FT", "reason": "客户属于福田"}
    small = low_api.post("/api/v1/ledger/events/C-3/reclassify", json=body, headers=fin1)
    assert small.status_code == 201, small.text
    asked = low_api.post("/api/v1/ledger/events/C-1/reclassify", json=body, headers=fin1)
    assert asked.status_code == 202, asked.text
    request = asked.json()["id"]
    assert asked.json()["status"] == "pending"
    own = low_api.post(f"/api/v1/ledger/corrections/{request}/approve", headers=fin1)
    assert own.status_code == 403
    assert "another finance user" in own.json()["detail"]
    assert (
        low_api.post(f"/api/v1/ledger/corrections/{request}/approve", headers=aud).status_code
        == 403
    )
    listed = low_api.get("/api/v1/ledger/corrections?pending=true", headers=aud)
    assert [r["id"] for r in listed.json()["items"]] == [request]
    approved = low_api.post(f"/api/v1/ledger/corrections/{request}/approve", headers=fin2)
    assert approved.status_code == 201, approved.text
    assert approved.json()["business_key"] == "adjustment:C-1:1"
    assert low_api.get("/api/v1/ledger/corrections?pending=true", headers=aud).json()["total"] == 0


def test_on_the_command_line_the_same_login_cannot_approve_its_own_request(
    cli_env: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import_csv(cli_env, tmp_path, EVENTS)
    monkeypatch.setenv("O2O_CORRECTION_APPROVAL_FEN", str(LOW))
    monkeypatch.setenv("LOGNAME", "ann")
    from app.config import get_settings

    get_settings.cache_clear()
    asked = runner.invoke(o2o(), ["ledger", "reclassify", "--event", "C-1", "--branch", "SZ-FT",
                                  "--reason", "客户属于福田"])  # fmt: skip
    assert asked.exit_code == 0, asked.output
    assert "request 1: reclassify of C-1 (1234 fen) waits for another finance user" in asked.output
    own = runner.invoke(o2o(), ["ledger", "approve", "--request", "1"])
    assert own.exit_code == 2
    assert "is your own" in own.output
    monkeypatch.setenv("LOGNAME", "bob")
    approved = runner.invoke(o2o(), ["ledger", "approve", "--request", "1"])
    assert approved.exit_code == 0, approved.output
    listed = runner.invoke(o2o(), ["ledger", "corrections"])
    assert "1\tapproved\treclassify\tC-1\tSZ-FT\t1234\tcli:ann\tcli:bob" in listed.output


def test_concurrent_approvals_of_one_request_post_exactly_once(
    ledger_engine: Engine, tmp_path: Path, low: Settings
) -> None:
    import_csv(ledger_engine, tmp_path, EVENTS)
    asked = _reclassify(ledger_engine, low, "C-1")
    assert isinstance(asked, CorrectionRequestRead)
    outcomes: list[str] = []
    start = threading.Barrier(4)

    def attempt(approver: str) -> None:
        start.wait()
        try:
            _decide(ledger_engine, asked.id, actor=approver)
            outcomes.append("posted")
        except Conflict:
            outcomes.append("refused")

    threads = [threading.Thread(target=attempt, args=(f"fin{n}",)) for n in range(2, 6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["posted", "refused", "refused", "refused"]
    assert _adjustments(ledger_engine) == 1
    assert [r.status for r in _listed(ledger_engine)] == ["approved"]

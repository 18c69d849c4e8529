"""A credit whose suspense was reclassified is not reversed until the reclassification is.

Reversing it anyway would leave the branch credited and suspense debited for revenue that
no longer exists; corrections unwind last-in, first-out, on every path, and verify catches
the bad state if it is ever written past the service.
"""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine

from app.db import session_scope
from app.errors import Conflict
from app.journal.store import period_lock, stored_entry
from ledger.entries import reversal
from ledger.periods import Period
from tests.app.ledger_corrections import EVENTS, NOVEMBER, entry_id, reclassify, reverse
from tests.app.ledger_world import auth, balances, findings, import_csv, o2o, runner


def test_a_reclassified_credit_is_reversed_only_after_its_reclassification(
    ledger_engine: Engine, tmp_path: Path
) -> None:
    import_csv(ledger_engine, tmp_path, EVENTS)
    moved = reclassify(ledger_engine, "C-1")
    credit = entry_id(ledger_engine, "revenue:C-1")
    with pytest.raises(Conflict, match=rf"reclassified by entry {moved.id}; reverse entry"):
        reverse(ledger_engine, credit)
    assert findings(ledger_engine) == []
    reverse(ledger_engine, moved.id)  # back to suspense ...
    reverse(ledger_engine, credit)  # ... then the credit itself
    after = balances(ledger_engine, "e.event_id = 'C-1'")
    assert not any(after.values())
    assert findings(ledger_engine) == []


def test_the_command_line_refuses_to_reverse_a_reclassified_credit(
    cli_env: Engine, tmp_path: Path
) -> None:
    import_csv(cli_env, tmp_path, EVENTS)
    moved = reclassify(cli_env, "C-1")
    credit = str(entry_id(cli_env, "revenue:C-1"))
    refused = runner.invoke(o2o(), ["ledger", "reverse", "--entry", credit, "--reason", "x"])
    assert refused.exit_code == 2
    assert f"reclassified by entry {moved.id}" in refused.output
    assert runner.invoke(o2o(), ["ledger", "verify"]).exit_code == 0


def test_the_api_answers_409_naming_the_reclassification(
    api: TestClient, ledger_engine: Engine, tmp_path: Path
) -> None:
    import_csv(ledger_engine, tmp_path, EVENTS)
    moved = reclassify(ledger_engine, "C-1")
    credit = entry_id(ledger_engine, "revenue:C-1")
    url = f"/api/v1/ledger/entries/{credit}/reverse"
    refused = api.post(url, json={"reason": "x"}, headers=auth(api, "fin1"))
    assert refused.status_code == 409, refused.text
    assert f"reclassified by entry {moved.id}" in refused.json()["detail"]


def test_verify_reports_a_reversed_credit_whose_reclassification_stands(
    ledger_engine: Engine, tmp_path: Path
) -> None:
    import_csv(ledger_engine, tmp_path, EVENTS)
    moved = reclassify(ledger_engine, "C-1")
    credit = entry_id(ledger_engine, "revenue:C-1")
    with session_scope(ledger_engine) as session:  # past the service, as a bad script would
        period_lock.take_posting_lock(session)
        original = stored_entry.load_entry(session, entry_id=credit)
        assert original is not None
        stored_entry.write_entry(session, entry=reversal(original.entry), period=Period(2026, 11),
                           posted_at=NOVEMBER)  # fmt: skip
    found = findings(ledger_engine)
    assert "event C-1: suspense:unowned holds -1234 fen of an event of 1234 fen" in found[0]
    assert found[1] == (
        f"event C-1: reclassification entry {moved.id} stands although its credit entry "
        f"{credit} was reversed"
    )


def test_a_reversal_and_a_reclassification_racing_post_exactly_one(
    ledger_engine: Engine, tmp_path: Path
) -> None:
    import_csv(ledger_engine, tmp_path, EVENTS)
    credit = entry_id(ledger_engine, "revenue:C-1")
    outcomes: dict[str, str] = {}
    start = threading.Barrier(2)

    def attempt(name: str) -> None:
        start.wait()
        try:
            if name == "reverse":
                reverse(ledger_engine, credit)
            else:
                reclassify(ledger_engine, "C-1")
            outcomes[name] = "posted"
        except Conflict:
            outcomes[name] = "refused"

    threads = [threading.Thread(target=attempt, args=(n,)) for n in ("reverse", "reclassify")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    posted = list(outcomes.values()).count("posted")
    print(f"reverse_vs_reclassify_posted={posted} threshold=1 outcomes={outcomes}")
    assert sorted(outcomes.values()) == ["posted", "refused"]
    assert findings(ledger_engine) == []

"""Revenue import: credited to the owner at occurred_at, exactly once, reconciled, all-or-nothing."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import OperationalError

from app.config import get_settings
from app.db import session_scope
from app.errors import FileRejected
from app.journal import service
from app.journal.revenue_import import crediting
from app.journal.revenue_import.importer import import_revenue
from tests.app.factories import write
from tests.app.ledger_world import (
    HEADER,
    NOW,
    assert_stored_as_built,
    import_csv,
    scalar,
)

GOOD = HEADER + (
    "E1,A1,brokerage_commission,100.50,2026-10-05T10:00:00,app\n"
    "E2,B1,product_fee,20.01,2026-10-10T10:00:00+08:00,app\n"
    "E3,B1,product_fee,7,2026-10-25T10:00:00,app\n"  # B1's interval ended on the 20th
    "E4,C1,margin_interest,-3.10,2026-10-06,app\n"
    "E5,D1,advisory_fee,1.00,2026-10-07T00:00:00Z,wechat\n"
)


def _balances(engine: Engine) -> dict[str, int]:
    with engine.connect() as conn:
        rows = conn.execute(
            text("SELECT account, SUM(amount) FROM ledger_posting GROUP BY account")
        )
        return {str(account): int(total) for account, total in rows}


def test_events_are_credited_to_the_owner_at_occurred_at_and_reconciled(
    ledger_engine: Engine, tmp_path: Path
) -> None:
    report = import_csv(ledger_engine, tmp_path, GOOD)
    assert (report.rows, report.new_events) == (5, 5)
    totals = report.totals
    assert totals.imported_fen == 10050 + 2001 + 700 - 310 + 100
    assert totals.branches_fen == 10050 + 2001
    assert totals.suspense_fen == 700 - 310 + 100
    assert totals.hq_fen == 0
    balances = _balances(ledger_engine)
    assert balances["branch:SZ-FT:revenue"] == -10050
    assert balances["branch:BJ-CY:revenue"] == -2001
    assert balances["suspense:unowned"] == -(700 - 310 + 100)
    assert balances["clearing:brokerage_commission"] == 10050
    assert balances["channel:wechat:kpi"] == -100
    stored = scalar(
        ledger_engine,
        "SELECT imported_fen - branches_fen - hq_fen - suspense_fen FROM revenue_batch",
    )
    assert stored == 0


def test_every_stored_credit_is_the_entry_the_core_builds(
    ledger_engine: Engine, tmp_path: Path
) -> None:
    """PostgreSQL credits in SQL (app/journal/revenue_import/sql_crediting.py): the core is the reference."""
    report = import_csv(ledger_engine, tmp_path, GOOD)
    with session_scope(ledger_engine) as session:
        pages = crediting.new_event_pages(session, batch_id=report.batch_id or 0, page=2)
        built = [crediting.credit_row(row).entry for rows in pages for row in rows]
        assert len(built) == 5
        assert_stored_as_built(session, built)


def test_with_the_kpi_overlay_off_credits_carry_their_money_legs_only(
    ledger_engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Finance's option (O2O_LEDGER_KPI_OVERLAY=false, issue 18.3): half the postings, the
    same money, and still the entries the core builds without an acquiring channel."""
    monkeypatch.setenv("O2O_LEDGER_KPI_OVERLAY", "false")
    get_settings.cache_clear()
    try:
        report = import_csv(ledger_engine, tmp_path, GOOD)
        with session_scope(ledger_engine) as session:
            pages = crediting.new_event_pages(session, batch_id=report.batch_id or 0, page=2)
            built = [crediting.credit_row(row).entry for rows in pages for row in rows]
            assert_stored_as_built(session, built)
            assert service.verify_ledger(session) == []
    finally:
        monkeypatch.delenv("O2O_LEDGER_KPI_OVERLAY")
        get_settings.cache_clear()
    assert [len(entry.postings) for entry in built] == [2] * 5
    assert scalar(ledger_engine, "SELECT COUNT(*) FROM ledger_posting WHERE unit = 'KPI'") == 0
    assert report.totals.branches_fen == 10050 + 2001  # the money is as with the overlay
    assert _balances(ledger_engine)["suspense:unowned"] == -(700 - 310 + 100)


def test_reimporting_the_same_file_changes_nothing(ledger_engine: Engine, tmp_path: Path) -> None:
    import_csv(ledger_engine, tmp_path, GOOD)
    again = import_csv(ledger_engine, tmp_path, GOOD)
    assert (again.new_events, again.unchanged, again.batch_id) == (0, 5, None)
    assert scalar(ledger_engine, "SELECT COUNT(*) FROM ledger_entry") == 5
    assert scalar(ledger_engine, "SELECT COUNT(*) FROM revenue_batch") == 1


def test_a_replay_without_the_channel_column_is_the_same_event(
    ledger_engine: Engine, tmp_path: Path
) -> None:
    import_csv(ledger_engine, tmp_path, GOOD)
    replay = "event_id,external_id,type,amount,occurred_at\nE1,A1,brokerage_commission,100.5,2026-10-05T02:00:00Z\n"
    assert import_csv(ledger_engine, tmp_path, replay, name="r.csv").new_events == 0


def test_the_same_event_id_with_other_content_is_rejected_naming_the_line(
    ledger_engine: Engine, tmp_path: Path
) -> None:
    import_csv(ledger_engine, tmp_path, GOOD)
    changed = (
        HEADER
        + "E9,A1,other,1,2026-10-05,app\nE1,A1,brokerage_commission,100.51,2026-10-05T10:00:00,app\n"
    )
    with pytest.raises(FileRejected) as caught:
        import_csv(ledger_engine, tmp_path, changed, name="changed.csv")
    [error] = caught.value.errors
    assert (error.line, error.column) == (3, "event_id")
    assert "already imported with different content" in error.reason
    assert scalar(ledger_engine, "SELECT COUNT(*) FROM revenue_event") == 5


# E1 as GOOD has it with one content column changed (migration 0033 compares the columns,
# no longer a stored digest of them): each is another event under the same event_id.
E1_CHANGED = {
    "external_id": "E1,B1,brokerage_commission,100.50,2026-10-05T10:00:00,app\n",
    "type": "E1,A1,product_fee,100.50,2026-10-05T10:00:00,app\n",
    "amount": "E1,A1,brokerage_commission,100.51,2026-10-05T10:00:00,app\n",
    "instant": "E1,A1,brokerage_commission,100.50,2026-10-05T10:00:00.000001,app\n",
}


@pytest.mark.parametrize("row", E1_CHANGED.values(), ids=E1_CHANGED.keys())
def test_each_content_column_tells_a_stored_event_from_a_changed_one(
    ledger_engine: Engine, tmp_path: Path, row: str
) -> None:
    import_csv(ledger_engine, tmp_path, GOOD)
    with pytest.raises(FileRejected) as caught:
        import_csv(ledger_engine, tmp_path, HEADER + row, name="changed.csv")
    [error] = caught.value.errors
    assert (error.line, error.column) == (2, "event_id")
    assert "already imported with different content" in error.reason


@pytest.mark.parametrize("row", E1_CHANGED.values(), ids=E1_CHANGED.keys())
def test_each_content_column_tells_a_repeat_in_the_file_from_a_changed_one(
    ledger_engine: Engine, tmp_path: Path, row: str
) -> None:
    body = GOOD.splitlines(keepends=True)[1] + row
    [error] = rejection(ledger_engine, tmp_path, HEADER + body).errors
    assert (error.line, error.reason) == (3, "event_id 'E1' repeats line 2 with other content")


def test_a_replay_written_differently_is_the_same_event(
    ledger_engine: Engine, tmp_path: Path
) -> None:
    import_csv(ledger_engine, tmp_path, GOOD)
    same = HEADER + "E1,A1,brokerage_commission,100.5,2026-10-05T02:00:00.000000Z,app\n"
    assert import_csv(ledger_engine, tmp_path, same, name="same.csv").new_events == 0


def test_a_mostly_new_file_with_a_stored_event_stores_the_new_ones_in_line_order(
    ledger_engine: Engine, tmp_path: Path
) -> None:
    """The insert expects a new file (few of its first lines stored) and the event_id index
    refuses E1: the attempt is undone and the rows go in again, skipping E1."""
    import_csv(ledger_engine, tmp_path, GOOD)
    body = HEADER + "E7,A1,other,1,2026-10-05,app\n" + GOOD.splitlines(keepends=True)[1]
    body += "E8,B1,other,2,2026-10-06,app\nE9,C1,other,3,2026-10-07,app\n"
    report = import_csv(ledger_engine, tmp_path, body, name="more.csv")
    assert (report.new_events, report.unchanged) == (3, 1)
    ordered = "SELECT event_id FROM revenue_event WHERE batch_id = :b ORDER BY id"
    with ledger_engine.connect() as conn:
        stored = conn.execute(text(ordered), {"b": report.batch_id}).scalars().all()
    assert stored == ["E7", "E8", "E9"]
    assert scalar(ledger_engine, "SELECT COUNT(*) FROM revenue_event") == 8
    assert scalar(ledger_engine, "SELECT COUNT(*) FROM ledger_entry") == 8


def test_every_bad_row_is_reported_and_nothing_is_written(
    ledger_engine: Engine, tmp_path: Path
) -> None:
    bad = HEADER + (
        "E1,A1,brokerage_commission,1.234,2026-10-05,app\n"
        "E2,A1,bonus,1,2026-10-05,app\n"
        "E3,ZZ,other,1,2026-10-05,app\n"
        "E4,A1,other,1,yesterday,app\n"
        "E5,D1,other,1,2026-10-05,\n"
        "E6,A1,other,0,2026-10-05,app\n"
        "E7,A1,other,1,2027-10-05,app\n"
        "E8,A1,other,1,2026-10-05,app\n"
        "E8,A1,other,2,2026-10-05,app\n"
    )
    with pytest.raises(FileRejected) as caught:
        import_csv(ledger_engine, tmp_path, bad)
    found = {(e.line, e.column) for e in caught.value.errors}
    assert found == {
        (2, "amount"), (3, "type"), (4, "external_id"), (5, "occurred_at"),
        (6, "external_id"), (7, "amount"), (8, "occurred_at"), (10, "event_id"),
    }  # fmt: skip
    reasons = " | ".join(e.reason for e in caught.value.errors)
    assert "more than 2 decimal places" in reasons
    assert "exists in channels app, wechat" in reasons
    assert all(e.file == "rev.csv" for e in caught.value.errors)
    assert scalar(ledger_engine, "SELECT COUNT(*) FROM revenue_event") == 0
    assert scalar(ledger_engine, "SELECT COUNT(*) FROM ledger_posting") == 0


def rejection(engine: Engine, tmp_path: Path, body: str) -> FileRejected:
    with pytest.raises(FileRejected) as caught:
        import_csv(engine, tmp_path, body)
    return caught.value


def test_a_repeated_ambiguous_row_is_reported_as_ambiguous_only(
    ledger_engine: Engine, tmp_path: Path
) -> None:
    rejected = rejection(ledger_engine, tmp_path, HEADER + "E5,D1,other,1,2026-10-05,\n" * 2)
    assert [(e.line, e.column, e.reason) for e in rejected.errors] == [
        (
            line,
            "external_id",
            "external_id 'D1' exists in channels app, wechat: add a channel column",
        )
        for line in (2, 3)
    ]


def test_a_changed_repeat_of_an_ambiguous_row_is_reported_once(
    ledger_engine: Engine, tmp_path: Path
) -> None:
    body = HEADER + "E5,D1,other,1,2026-10-05,\nE5,D1,other,2,2026-10-05,\n"
    rejected = rejection(ledger_engine, tmp_path, body)
    reasons = [(e.line, e.reason) for e in rejected.errors]
    assert reasons.count((3, "event_id 'E5' repeats line 2 with other content")) == 1
    assert rejected.total_errors == 3  # and each line is ambiguous


def test_a_repeat_naming_another_channels_lead_is_a_conflict(
    ledger_engine: Engine, tmp_path: Path
) -> None:
    body = HEADER + "E5,D1,other,1,2026-10-05,app\nE5,D1,other,1,2026-10-05,wechat\n"
    [error] = rejection(ledger_engine, tmp_path, body).errors
    assert (error.line, error.reason) == (3, "event_id 'E5' repeats line 2 with other content")


def test_a_changed_repeat_found_after_the_insert_leaves_nothing_stored(
    ledger_engine: Engine, tmp_path: Path
) -> None:
    """Repeats are looked for once the new events are in (only when some row was not new);
    the file is still refused whole."""
    body = HEADER + "E1,A1,other,1,2026-10-05,app\nE2,A1,other,1,2026-10-05,app\n"
    body += "E1,A1,other,2,2026-10-05,app\n"
    [error] = rejection(ledger_engine, tmp_path, body).errors
    assert (error.line, error.reason) == (4, "event_id 'E1' repeats line 2 with other content")
    assert scalar(ledger_engine, "SELECT COUNT(*) FROM revenue_event") == 0
    assert scalar(ledger_engine, "SELECT COUNT(*) FROM ledger_entry") == 0


def test_an_identical_repeat_inside_one_file_is_credited_once(
    ledger_engine: Engine, tmp_path: Path
) -> None:
    body = HEADER + "E1,A1,other,1,2026-10-05,app\nE1,A1,other,1.00,2026-10-05,app\n"
    assert import_csv(ledger_engine, tmp_path, body).new_events == 1
    assert scalar(ledger_engine, "SELECT COUNT(*) FROM ledger_entry") == 1


def test_simultaneous_posts_of_one_event_credit_it_exactly_once(
    ledger_engine: Engine, tmp_path: Path
) -> None:
    path = write(tmp_path, "same.csv", HEADER + "S1,A1,other,9.99,2026-10-05,app\n")
    barrier = threading.Barrier(6)
    failures: list[BaseException] = []

    def post() -> None:
        barrier.wait()
        try:
            with session_scope(ledger_engine) as session:
                import_revenue(session, path=path, actor="test", now=NOW)
        except OperationalError as exc:  # SQLite: a writer that lost the race may be told so
            failures.append(exc)

    threads = [threading.Thread(target=post) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert scalar(ledger_engine, "SELECT COUNT(*) FROM ledger_entry") == 1
    assert scalar(ledger_engine, "SELECT COUNT(*) FROM revenue_batch") == 1
    if ledger_engine.dialect.name != "sqlite":
        assert failures == []
    assert all("locked" in str(f) for f in failures)


def test_a_malformed_file_is_rejected_while_streaming(
    ledger_engine: Engine, tmp_path: Path
) -> None:
    body = HEADER + "E1,A1,other,1,2026-10-05,app\nE2,A1,other,1,2026-10-05,app,extra\n"
    with pytest.raises(FileRejected) as caught:
        import_csv(ledger_engine, tmp_path, body)
    assert [(e.line, e.column) for e in caught.value.errors] == [(3, "*")]
    assert scalar(ledger_engine, "SELECT COUNT(*) FROM revenue_event") == 0

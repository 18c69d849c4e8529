"""Split policies stored in the database: validated, append-only, and used by crediting."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError

from app.db import session_scope
from app.errors import FileRejected
from app.journal import closing, service
from app.journal.policies import versions
from app.journal.revenue_import import crediting
from ledger.periods import Period
from tests.app.factories import write
from tests.app.ledger_world import (
    HEADER,
    SPLIT,
    add_policies,
    assert_stored_as_built,
    balances,
    findings,
    import_csv,
    scalar,
)

EVENTS = HEADER + (
    "E1,A1,brokerage_commission,100.50,2026-10-05T10:00:00,app\n"  # no policy: default rule
    "E2,B1,product_fee,20.01,2026-10-10T10:00:00,app\n"  # 6667/3333 of 2001 fen
    "E3,B1,advisory_fee,0.01,2026-10-11T10:00:00,app\n"  # a 1-fen tie: the lower code wins
    "E4,B1,advisory_fee,-0.03,2026-10-12T10:00:00,app\n"  # a refund splits as the mirror
    "E5,C1,product_fee,7,2026-10-13T10:00:00,app\n"  # no owner: all to suspense
    "E6,A1,product_fee,3.33,2026-10-14T10:00:00,app\n"
)


def test_a_split_policy_shares_each_event_by_largest_remainder(
    ledger_engine: Engine, tmp_path: Path
) -> None:
    add_policies(ledger_engine, tmp_path, SPLIT)
    report = import_csv(ledger_engine, tmp_path, EVENTS)
    assert balances(ledger_engine, "e.event_id = 'E2'") == {
        "clearing:product_fee": 2001, "branch:BJ-CY:revenue": -1334, "hq:online:revenue": -667,
        "kpi:issued:product_fee": 1001, "channel:app:kpi": -1001,  # 2001 x 50%, half up
    }  # fmt: skip
    # 0.5 fen each: the remainder goes to the smaller account code, the branch's.
    assert balances(ledger_engine, "e.event_id = 'E3'")["branch:BJ-CY:revenue"] == -1
    assert "hq:online:revenue" not in balances(ledger_engine, "e.event_id = 'E3'")
    refund = balances(ledger_engine, "e.event_id = 'E4'")
    assert (refund["branch:BJ-CY:revenue"], refund["hq:online:revenue"]) == (2, 1)
    assert balances(ledger_engine, "e.event_id = 'E5'")["suspense:unowned"] == -700
    assert balances(ledger_engine, "e.event_id = 'E1'")["branch:SZ-FT:revenue"] == -10050
    totals = report.totals
    assert (totals.hq_fen, totals.suspense_fen) == (667 - 1 + 111, 700)
    assert totals.imported_fen == totals.branches_fen + totals.hq_fen + totals.suspense_fen
    assert findings(ledger_engine) == []


def test_the_bulk_path_and_the_core_store_identical_entries_under_policies(
    ledger_engine: Engine, tmp_path: Path
) -> None:
    """PostgreSQL credits default-rule events in SQL and split events in the core; the core
    alone is the reference for every entry, line by line (SQLite: the core path itself)."""
    add_policies(ledger_engine, tmp_path, SPLIT)
    report = import_csv(ledger_engine, tmp_path, EVENTS)
    with session_scope(ledger_engine) as session:
        book = versions.load_book(session)
        pages = crediting.new_event_pages(session, batch_id=report.batch_id or 0, page=4)
        built = [crediting.credit_row(row, book=book).entry for rows in pages for row in rows]
        assert len(built) == 6
        assert sum("under policy" in entry.memo for entry in built) == 5  # all but E1
        assert_stored_as_built(session, built)


def test_a_new_version_supersedes_the_old_one_from_its_effective_date(
    ledger_engine: Engine, tmp_path: Path
) -> None:
    add_policies(ledger_engine, tmp_path, SPLIT[:1])
    back_to_default = {"policy_id": "PF-2", "revenue_type": "product_fee",
                       "valid_from": "2026-10-12T00:00:00+08:00", "branch_bps": 10000,
                       "hq_online_bps": 0, "reason": "pilot ended"}  # fmt: skip
    add_policies(ledger_engine, tmp_path, [back_to_default], name="v2.json")
    import_csv(ledger_engine, tmp_path, EVENTS)
    assert "hq:online:revenue" in balances(ledger_engine, "e.event_id = 'E2'")  # 10 Oct: PF-1
    after = balances(ledger_engine, "e.event_id = 'E6'")  # 14 Oct: PF-2 = the default rule
    assert (after["branch:SZ-FT:revenue"], after["channel:app:kpi"]) == (-333, -333)
    with session_scope(ledger_engine) as session:
        listed = service.list_policies(session)
    assert [(p.policy_id, p.valid_to) for p in listed.items] == [
        ("PF-1", datetime(2026, 10, 11, 16, tzinfo=UTC)), ("PF-2", None),
    ]  # fmt: skip
    assert findings(ledger_engine) == []


def test_every_bad_policy_is_reported_by_line_and_nothing_is_stored(
    ledger_engine: Engine, tmp_path: Path
) -> None:
    rows = (
        "policy_id,revenue_type,valid_from,branch_bps,hq_online_bps,overlay_bps\n"
        "P1,product_fee,2026-12-01,7000,2999,\n"  # shares total 9,999 bp
        "P2,bonus,2026-12-01,7000,3000,\n"  # unknown revenue type
        "P3,product_fee,next month,7000,3000,\n"  # not a timestamp
        "P4,advisory_fee,2026-12-01,70.5,3000,\n"  # not whole basis points
        "P5,other,2026-12-01,7000,3000,-1\n"  # negative overlay
        "P6,other,2026-12-01,7000,3000,\n"  # good, but the file is rejected as a whole
        "P6,margin_interest,2027-01-01,7000,3000,\n"  # id given twice
    )
    with pytest.raises(FileRejected) as caught, session_scope(ledger_engine) as session:
        service.add_policy_file(session, path=write(tmp_path, "p.csv", rows), actor="fin1")
    found = {(e.line, e.column) for e in caught.value.errors}
    assert found == {(2, "*"), (3, "revenue_type"), (4, "valid_from"), (5, "branch_bps"),
                     (6, "overlay_bps"), (7, "policy_id"), (8, "policy_id")}  # fmt: skip
    assert "expected exactly 10000" in caught.value.errors[0].reason  # line 2 first
    assert scalar(ledger_engine, "SELECT COUNT(*) FROM ledger_split_policy") == 0


def test_a_version_cannot_change_a_closed_month_or_credited_revenue(
    ledger_engine: Engine, tmp_path: Path
) -> None:
    import_csv(ledger_engine, tmp_path, EVENTS)
    late_split = [{**SPLIT[0], "valid_from": "2026-10-14"}]
    with pytest.raises(FileRejected, match="1 bad row") as caught:
        add_policies(ledger_engine, tmp_path, late_split)
    assert "already credited" in caught.value.errors[0].reason
    with session_scope(ledger_engine) as session:
        closing.close_period(session, period=Period(2026, 10), actor="fin1",
                             now=datetime(2026, 11, 2, tzinfo=UTC))  # fmt: skip
    with pytest.raises(FileRejected) as caught:
        add_policies(ledger_engine, tmp_path, [{**SPLIT[0], "valid_from": "2026-10-31"}])
    assert "closed period 2026-10" in caught.value.errors[0].reason
    add_policies(ledger_engine, tmp_path, [{**SPLIT[0], "valid_from": "2026-11-01"}])
    assert scalar(ledger_engine, "SELECT COUNT(*) FROM ledger_split_policy") == 1


def test_stored_policies_cannot_be_edited_or_deleted(ledger_engine: Engine, tmp_path: Path) -> None:
    add_policies(ledger_engine, tmp_path, SPLIT)
    for attack in ("UPDATE ledger_split_policy SET branch_bps = 10000, hq_online_bps = 0",
                   "DELETE FROM ledger_split_policy"):  # fmt: skip
        with pytest.raises(DBAPIError, match="append-only"), ledger_engine.begin() as conn:
            conn.execute(text(attack))
    with pytest.raises(DBAPIError), ledger_engine.begin() as conn:  # the shares rule itself
        conn.execute(text(
            "INSERT INTO ledger_split_policy (policy_id, revenue_type, valid_from, branch_bps,"
            " hq_online_bps, overlay_bps, reason, created_by, created_at) VALUES ('X', 'other',"
            " '2027-01-01 00:00:00', 7000, 2000, 0, '', 'sql', '2026-11-25 00:00:00')"
        ))  # fmt: skip
    assert scalar(ledger_engine, "SELECT SUM(hq_online_bps) FROM ledger_split_policy") == 8333

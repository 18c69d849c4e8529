"""Per-branch monthly statements: balances, adjustments, reproducible bytes."""

from __future__ import annotations

import random
from datetime import UTC, datetime

import pytest

from ledger.crediting import credit_revenue
from ledger.entries import reversal
from ledger.errors import StatementError
from ledger.periods import Period
from ledger.records import PostingRecord, posting_records
from ledger.statements import build_statement, render_statement, statement_sha256

from .builders import make_event

FEB = Period(2026, 2)
POSTED = datetime(2026, 2, 20, 3, tzinfo=UTC)


def feb_records() -> list[PostingRecord]:
    """Two credits, a refund, and a late January event posted in February."""
    records: list[PostingRecord] = []
    cases = [
        ("1", "EV-1", 10_000, datetime(2026, 2, 3, tzinfo=UTC)),
        ("2", "EV-2", 2_550, datetime(2026, 2, 4, tzinfo=UTC)),
        ("10", "EV-3", -550, datetime(2026, 2, 5, tzinfo=UTC)),
        ("11", "EV-4", 700, datetime(2026, 1, 30, tzinfo=UTC)),
    ]
    for entry_id, event_id, amount, occurred_at in cases:
        event = make_event(event_id=event_id, amount_fen=amount, occurred_at=occurred_at)
        entry = credit_revenue(
            event=event, owner_branch_code="SH01", policy=None, acquiring_channel="app"
        ).entry
        records.extend(
            posting_records(entry_id=entry_id, entry=entry, posted_at=POSTED, period=FEB)
        )
    return records


def branch_only(records: list[PostingRecord]) -> list[PostingRecord]:
    return [r for r in records if r.account.code == "branch:SH01:revenue"]


def test_closing_is_opening_plus_the_credits_of_the_period() -> None:
    statement = build_statement(
        branch_code="SH01", period=FEB, opening_fen=1_000, records=branch_only(feb_records())
    )
    assert [line.amount_fen for line in statement.lines] == [10_000, 2_550, -550, 700]
    assert statement.movement_fen == 12_700
    assert statement.closing_fen == 13_700


def test_late_events_are_flagged_as_prior_period_adjustments() -> None:
    statement = build_statement(
        branch_code="SH01", period=FEB, opening_fen=0, records=branch_only(feb_records())
    )
    flagged = [line.event_id for line in statement.lines if line.prior_period_adjustment]
    assert flagged == ["EV-4"]


def test_lines_are_ordered_by_numeric_entry_id_whatever_the_input_order() -> None:
    records = branch_only(feb_records())
    shuffled = records[:]
    random.Random(7).shuffle(shuffled)
    first = build_statement(branch_code="SH01", period=FEB, opening_fen=0, records=records)
    second = build_statement(branch_code="SH01", period=FEB, opening_fen=0, records=shuffled)
    assert [line.entry_id for line in first.lines] == ["1", "2", "10", "11"]
    assert render_statement(first) == render_statement(second)
    assert statement_sha256(first) == statement_sha256(second)


def test_the_rendering_is_stable_byte_for_byte() -> None:
    statement = build_statement(
        branch_code="SH01", period=FEB, opening_fen=1_000, records=branch_only(feb_records())[:1]
    )
    assert render_statement(statement) == (
        b"format,o2o-ledger-statement/1\n"
        b"account,branch:SH01:revenue\n"
        b"branch_code,SH01\n"
        b"period,2026-02\n"
        b"unit,CNY\n"
        b"opening_fen,1000\n"
        b"entry_id,event_id,kind,occurred_at,posted_at,occurred_period,amount_fen,"
        b"prior_period_adjustment\n"
        b"1,EV-1,credit,2026-02-03T08:00:00+08:00,2026-02-20T11:00:00+08:00,2026-02,10000,false\n"
        b"line_count,1\n"
        b"movement_fen,10000\n"
        b"closing_fen,11000\n"
    )
    assert statement_sha256(statement) == statement_sha256(
        build_statement(
            branch_code="SH01",
            period=FEB,
            opening_fen=1_000,
            records=branch_only(feb_records())[:1],
        )
    )


def test_any_change_changes_the_hash() -> None:
    records = branch_only(feb_records())
    base = build_statement(branch_code="SH01", period=FEB, opening_fen=0, records=records)
    other_opening = build_statement(branch_code="SH01", period=FEB, opening_fen=1, records=records)
    missing_line = build_statement(
        branch_code="SH01", period=FEB, opening_fen=0, records=records[1:]
    )
    assert len({statement_sha256(s) for s in (base, other_opening, missing_line)}) == 3


def test_a_reversal_shows_as_a_negative_line() -> None:
    event = make_event(
        event_id="EV-9", amount_fen=800, occurred_at=datetime(2026, 2, 6, tzinfo=UTC)
    )
    entry = credit_revenue(
        event=event, owner_branch_code="SH01", policy=None, acquiring_channel=None
    ).entry
    records = [
        *posting_records(entry_id="5", entry=entry, posted_at=POSTED, period=FEB),
        *posting_records(entry_id="6", entry=reversal(entry), posted_at=POSTED, period=FEB),
    ]
    statement = build_statement(
        branch_code="SH01", period=FEB, opening_fen=0, records=branch_only(records)
    )
    assert [(line.kind.value, line.amount_fen) for line in statement.lines] == [
        ("credit", 800),
        ("reversal", -800),
    ]
    assert statement.closing_fen == 0


def test_postings_of_other_accounts_or_periods_are_refused() -> None:
    records = feb_records()
    with pytest.raises(StatementError):
        build_statement(branch_code="SH01", period=FEB, opening_fen=0, records=records)
    with pytest.raises(StatementError):
        build_statement(
            branch_code="SH01", period=Period(2026, 3), opening_fen=0, records=branch_only(records)
        )


def test_text_cells_that_start_a_formula_are_escaped_and_amounts_are_not() -> None:
    records: list[PostingRecord] = []
    for entry_id, event_id, amount in (("1", "=1+1", 100), ("2", "\uff0bx", -50), ("3", "@x", 7)):
        event = make_event(event_id=event_id, amount_fen=amount)
        entry = credit_revenue(
            event=event, owner_branch_code="SH01", policy=None, acquiring_channel="app"
        ).entry
        records.extend(
            posting_records(entry_id=entry_id, entry=entry, posted_at=POSTED, period=FEB)
        )
    statement = build_statement(
        branch_code="SH01", period=FEB, opening_fen=-20, records=branch_only(records)
    )
    text = render_statement(statement).decode()
    assert "\n1,'=1+1,credit," in text
    assert "\n2,'\uff0bx," in text
    assert "\n3,'@x," in text
    assert "opening_fen,-20\n" in text  # numbers are never escaped
    assert ",-50,false\n" in text

"""A month-by-month run of the whole core: late events, closes, statements, exports.

Events arrive in a month at or after the month they occurred in; every earlier month is
closed by then. Whatever the sequence, nothing lands in a closed period, statements chain
(closing = next opening), and every imported fen is on a branch, HQ or suspense statement.
"""

from __future__ import annotations

from datetime import timedelta

from hypothesis import given
from hypothesis import strategies as st

from ledger.accounts import AccountKind
from ledger.crediting import credit_revenue
from ledger.export import export_rows, export_totals
from ledger.periods import Period, period_of, posting_period
from ledger.records import PostingRecord, posting_records
from ledger.statements import build_statement, statement_sha256
from ledger.verification import find_discrepancies

from .builders import PROPERTY, make_event

MONTHS = [Period(2026, month) for month in (1, 2, 3, 4)]
EVENTS = st.lists(
    st.tuples(
        st.integers(min_value=-50_000, max_value=500_000).filter(bool),
        st.sampled_from([None, "A", "B"]),
        st.integers(min_value=0, max_value=3),  # occurred month
        st.integers(min_value=0, max_value=3),  # delay in months before it arrives
        st.integers(min_value=0, max_value=27 * 24 * 3600),  # offset inside the month
    ),
    max_size=25,
)


def run(events: list[tuple[int, str | None, int, int, int]]) -> tuple[list[PostingRecord], int]:
    records: list[PostingRecord] = []
    arrivals = sorted(enumerate(events), key=lambda item: min(item[1][2] + item[1][3], 3))
    for index, (amount, owner, occurred, delay, offset) in arrivals:
        arrival = min(occurred + delay, 3)
        now = MONTHS[arrival].start + timedelta(days=1)
        closed = set(MONTHS[:arrival])
        event = make_event(
            event_id=f"E{index}",
            amount_fen=amount,
            occurred_at=MONTHS[occurred].start + timedelta(seconds=offset),
        )
        period = posting_period(occurred_at=event.occurred_at, now=now, closed=closed)
        assert period not in closed
        entry = credit_revenue(
            event=event, owner_branch_code=owner, policy=None, acquiring_channel="app"
        ).entry
        records.extend(
            posting_records(entry_id=str(index), entry=entry, posted_at=now, period=period)
        )
    return records, sum(event[0] for event in events)


@PROPERTY
@given(EVENTS)
def test_every_fen_is_on_a_statement_and_statements_chain(
    events: list[tuple[int, str | None, int, int, int]],
) -> None:
    records, imported = run(events)
    assert find_discrepancies(records) == []
    for record in records:
        assert record.period >= period_of(record.occurred_at)
    closing_total = 0
    for branch in ("A", "B"):
        opening = 0
        for period in MONTHS:
            mine = [r for r in records if r.account.branch_code == branch and r.period == period]
            statement = build_statement(
                branch_code=branch, period=period, opening_fen=opening, records=mine
            )
            again = build_statement(
                branch_code=branch, period=period, opening_fen=opening, records=mine[::-1]
            )
            assert statement_sha256(statement) == statement_sha256(again)
            opening = statement.closing_fen
        closing_total += opening
    elsewhere = -sum(
        r.amount
        for r in records
        if r.account.kind in {AccountKind.HQ_REVENUE, AccountKind.SUSPENSE}
    )
    assert closing_total + elsewhere == imported


@PROPERTY
@given(EVENTS)
def test_each_period_export_balances(events: list[tuple[int, str | None, int, int, int]]) -> None:
    records, _ = run(events)
    for period in MONTHS:
        totals = export_totals(export_rows(r for r in records if r.period == period))
        assert totals.debit_fen == totals.credit_fen

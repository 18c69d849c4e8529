"""Export rows: exact columns, deterministic order, formula-safe cells."""

from __future__ import annotations

import csv
import io
import random
from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ledger.accounts import channel_kpi
from ledger.crediting import credit_revenue
from ledger.entries import EntryKind
from ledger.export import (
    CSV_BOM,
    EXPORT_COLUMNS,
    csv_chunks,
    escape_cell,
    export_row,
    export_rows,
    export_totals,
    render_csv,
)
from ledger.periods import Period
from ledger.policy import SplitPolicy
from ledger.records import PostingRecord, posting_records
from ledger.revenue import RevenueType

from .builders import PROPERTY, make_event

MAR = Period(2026, 3)
POLICY = SplitPolicy(
    policy_id="P",
    revenue_type=RevenueType.BROKERAGE_COMMISSION,
    valid_from=datetime(2026, 1, 1, tzinfo=UTC),
    valid_to=None,
    branch_bps=6_000,
    hq_online_bps=4_000,
)


def ledger_records() -> list[PostingRecord]:
    records: list[PostingRecord] = []
    for index, (event_id, amount, owner) in enumerate(
        [("=HYPERLINK(1)", 1_000, "SH01"), ("E-2", -250, "-B2"), ("E-3", 300, None)], start=8
    ):
        event = make_event(event_id=event_id, amount_fen=amount)
        crediting = credit_revenue(
            event=event, owner_branch_code=owner, policy=POLICY, acquiring_channel="app"
        )
        posted_at = datetime(2026, 3, 11, index, tzinfo=UTC)
        records.extend(
            posting_records(
                entry_id=str(index), entry=crediting.entry, posted_at=posted_at, period=MAR
            )
        )
    return records


def test_the_header_is_exactly_the_spec_columns() -> None:
    assert ",".join(EXPORT_COLUMNS) == (
        "entry_id,event_id,occurred_at,posted_at,period,account,branch_code,debit_fen,credit_fen"
    )
    first_line = render_csv([]).decode("utf-8").splitlines()[0]
    assert first_line == CSV_BOM + ",".join(EXPORT_COLUMNS)


def test_only_money_postings_are_exported_one_row_each() -> None:
    records = ledger_records()
    rows = export_rows(records)
    assert len(rows) == sum(1 for r in records if r.account.unit.is_money) == 8
    assert all(not row.account.startswith(("channel:", "kpi:")) for row in rows)
    kpi_record = next(r for r in records if r.account == channel_kpi("app"))
    with pytest.raises(ValueError, match="not a money account"):
        export_row(kpi_record)


def test_debit_and_credit_are_non_negative_with_one_of_them_zero() -> None:
    for row in export_rows(ledger_records()):
        assert min(row.debit_fen, row.credit_fen) == 0
        assert max(row.debit_fen, row.credit_fen) > 0


def test_branch_code_is_filled_for_branch_accounts_only() -> None:
    by_account = {row.account: row.branch_code for row in export_rows(ledger_records())}
    assert by_account["branch:SH01:revenue"] == "SH01"
    assert by_account["hq:online:revenue"] == ""
    assert by_account["suspense:unowned"] == ""


def test_rows_come_out_in_the_same_order_whatever_the_input_order() -> None:
    records = ledger_records()
    shuffled = records[:]
    random.Random(3).shuffle(shuffled)
    assert render_csv(export_rows(shuffled)) == render_csv(export_rows(records))
    assert [row.entry_id for row in export_rows(records)][::3] == ["8", "9", "10"]


def test_formula_like_cells_are_escaped_and_read_back_as_text() -> None:
    text = render_csv(export_rows(ledger_records())).decode("utf-8")
    parsed = list(csv.reader(io.StringIO(text.removeprefix(CSV_BOM))))
    cells = [cell for row in parsed[1:] for cell in row]
    assert "'=HYPERLINK(1)" in cells
    assert "'-B2" in cells
    assert not any(cell.startswith(("=", "+", "-", "@")) for cell in cells)
    assert parsed[1][EXPORT_COLUMNS.index("occurred_at")] == "2026-03-10T10:00:00+08:00"
    assert parsed[1][EXPORT_COLUMNS.index("period")] == "2026-03"


def test_xlsx_values_keep_ids_as_text_and_amounts_as_ints() -> None:
    row = export_rows(ledger_records())[0]
    values = row.values()
    assert values[0] == "8"
    assert isinstance(values[0], str)
    assert isinstance(values[-1], int)
    assert isinstance(values[-2], int)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("=1+1", "'=1+1"),
        ("+86", "'+86"),
        ("-3", "'-3"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tx", "'\tx"),
        ("\rx", "'\rx"),
        ("SH01", "SH01"),
        ("", ""),
        ("a=b", "a=b"),
    ],
)
def test_escape_cell(value: str, expected: str) -> None:
    assert escape_cell(value) == expected


@PROPERTY
@given(st.text())
def test_no_escaped_cell_starts_a_formula(value: str) -> None:
    escaped = escape_cell(value)
    assert not escaped.startswith(("=", "+", "-", "@", "\t", "\r"))
    assert escaped.removeprefix("'") == value or escaped == value


def test_streamed_chunks_equal_the_whole_file_and_totals_balance() -> None:
    rows = export_rows(ledger_records())
    assert "".join(csv_chunks(rows)).encode("utf-8") == render_csv(rows)
    assert not render_csv(rows, bom=False).startswith(CSV_BOM.encode("utf-8"))
    totals = export_totals(rows)
    assert totals.row_count == 8
    assert totals.debit_fen == totals.credit_fen == 1_550


def test_numeric_entry_ids_sort_numerically() -> None:
    event = make_event()
    entry = credit_revenue(
        event=event, owner_branch_code="B", policy=None, acquiring_channel=None
    ).entry
    at = datetime(2026, 3, 1, tzinfo=UTC)
    records = [
        r
        for entry_id in ("10", "9", "abc")
        for r in posting_records(entry_id=entry_id, entry=entry, posted_at=at, period=MAR)
    ]
    assert [row.entry_id for row in export_rows(records)][::2] == ["9", "10", "abc"]
    assert records[0].kind is EntryKind.CREDIT

"""How money, accounts and rejected rows read on the finance pages."""

from __future__ import annotations

import pytest

from app.web.labels import account_label, row_reason_label, yuan


@pytest.mark.parametrize(
    ("fen", "text"),
    [(0, "¥0.00"), (5, "¥0.05"), (12345, "¥123.45"), (-100, "-¥1.00"),
     (123456789012, "¥1,234,567,890.12"), (None, "—")],
)  # fmt: skip
def test_fen_read_as_yuan_exactly(fen: int | None, text: str) -> None:
    assert yuan(fen) == text


def test_accounts_read_in_chinese_with_their_branch() -> None:
    assert account_label("branch:SZ-FT:revenue") == "营业部收入 · SZ-FT"
    assert account_label("suspense:unowned") == "挂账 · 无归属客户"
    assert account_label("clearing:margin_interest") == "清算 · 融资利息"
    assert account_label("something:else") == "something:else"


def test_row_reasons_read_in_chinese_and_unknown_ones_stay_as_given() -> None:
    reason = "event_id 'E9' repeats line 3 with other content"
    assert row_reason_label(reason) == "event_id E9 与第 3 行重复但内容不同"
    assert row_reason_label("3 cells but 6 columns in the header") == "本行 3 个单元格，表头 6 列"
    assert row_reason_label("a new kind of problem") == "a new kind of problem"

"""How money, accounts and rejected rows read on the finance pages."""

from __future__ import annotations

import pytest

from app.errors import RowError
from app.web.labels import account_label, yuan
from app.web.messages import in_chinese
from coded_messages import message


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


def test_row_reasons_read_in_chinese_from_their_codes() -> None:
    repeated = RowError.of("r.csv", 5, "event_id",
                           message("revenue.repeated_event", event_id="E9", first=3))  # fmt: skip
    assert repeated.reason == "event_id 'E9' repeats line 3 with other content"
    assert repeated.said is not None
    assert in_chinese(repeated.said) == "event_id E9 与第 3 行重复但内容不同"
    cells = message("import.too_many_cells", cells=3, columns=6)
    assert in_chinese(cells) == "本行 3 个单元格，表头 6 列"
    amount = message("ledger.invalid_amount", text="1.234", problem="too_many_decimals")
    assert in_chinese(amount) == "金额 1.234 超过两位小数"
    plain = RowError.of("r.csv", 5, "x", "a reason only the CLI gives")
    assert (plain.reason, plain.said) == ("a reason only the CLI gives", None)

"""The export as accountants read it (issue 17.6): Chinese headers, amounts in yuan, branch
names, a totals row. The canonical export (`ledger.export`) stays the record whose bytes are
hashed and re-verified; this layout is a reading of the same rows, never stored.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime

from ledger.export import ExportRow
from ledger.periods import SHANGHAI
from spreadsheet_cells import escape_cell

ACCOUNTANT_COLUMNS = ("分录号", "收入事件", "发生时间", "记账时间", "会计期间", "科目",
                      "营业部代码", "营业部名称", "借方金额（元）", "贷方金额（元）")  # fmt: skip
TOTAL_LABEL = "合计"
YUAN_FORMAT = "#,##0.00"


def yuan(fen: int) -> str:
    """Exact yuan text of integer fen: 12050 -> '120.50', -5 -> '-0.05' (no float)."""
    whole, cents = divmod(abs(fen), 100)
    return f"{'-' if fen < 0 else ''}{whole}.{cents:02d}"


def local_time(canonical: str) -> datetime:
    """A canonical timestamp ('2026-11-12T10:00:00+08:00') as a naive Shanghai wall-clock time,
    which is what a spreadsheet date cell holds."""
    return datetime.fromisoformat(canonical).astimezone(SHANGHAI).replace(tzinfo=None)


@dataclass(frozen=True, slots=True)
class AccountantRow:
    """One posting in the accountants' layout; `total` marks the closing totals row."""

    texts: tuple[str, ...]  # entry, event, (times as text), period, account, code, name
    occurred_at: datetime | None
    posted_at: datetime | None
    debit_fen: int
    credit_fen: int
    total: bool = False

    def csv_cells(self) -> tuple[str, ...]:
        return (*self.texts, yuan(self.debit_fen), yuan(self.credit_fen))


def accountant_rows(
    rows: Iterable[ExportRow], *, branch_names: Mapping[str, str]
) -> Iterator[AccountantRow]:
    """The rows in export order, then one totals row (debits and credits summed exactly)."""
    debit = credit = 0
    for row in rows:
        debit += row.debit_fen
        credit += row.credit_fen
        name = branch_names.get(row.branch_code, "")
        texts = (row.entry_id, row.event_id, _shown(row.occurred_at), _shown(row.posted_at),
                 row.period, row.account, row.branch_code, name)  # fmt: skip
        yield AccountantRow(tuple(escape_cell(t) for t in texts), local_time(row.occurred_at),
                            local_time(row.posted_at), row.debit_fen, row.credit_fen)  # fmt: skip
    yield AccountantRow((TOTAL_LABEL, *[""] * 7), None, None, debit, credit, total=True)


def _shown(canonical: str) -> str:
    return local_time(canonical).strftime("%Y-%m-%d %H:%M:%S")

"""Export rows of the money postings (contract §7) and safe CSV cells.

One row per CNY posting with the exact columns of :data:`EXPORT_COLUMNS`. ``debit_fen`` and
``credit_fen`` are non-negative integers, one of them zero; ``branch_code`` is empty for
non-branch accounts; ids stay text. Rows are ordered by :func:`export_sort_key` so that
re-exporting a closed period gives the same bytes; a SQL export should order by the same
columns (period, posted_at, entry id, account code).

Text cells that a spreadsheet would run as a formula get a leading apostrophe
(:func:`spreadsheet_cells.escape_cell`, the product's one rule). Amount cells never need it:
they are non-negative by construction.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from ledger.money import Unit
from ledger.periods import format_timestamp
from ledger.records import PostingRecord, entry_id_key
from spreadsheet_cells import escape_cell

EXPORT_COLUMNS = (
    "entry_id",
    "event_id",
    "occurred_at",
    "posted_at",
    "period",
    "account",
    "branch_code",
    "debit_fen",
    "credit_fen",
)
CSV_BOM = "\ufeff"  # Excel in Chinese locales needs it to read UTF-8


@dataclass(frozen=True, slots=True)
class ExportRow:
    """One exported posting, with text fields already canonical (not yet escaped)."""

    entry_id: str
    event_id: str
    occurred_at: str
    posted_at: str
    period: str
    account: str
    branch_code: str
    debit_fen: int
    credit_fen: int

    def values(self) -> tuple[str | int, ...]:
        """Typed cells (ids as text, amounts as int) for an XLSX writer."""
        return (
            *(escape_cell(text) for text in self._texts()),
            self.debit_fen,
            self.credit_fen,
        )

    def cells(self) -> tuple[str, ...]:
        """Escaped text cells for a CSV writer."""
        return tuple(str(value) for value in self.values())

    def _texts(self) -> tuple[str, ...]:
        return (
            self.entry_id,
            self.event_id,
            self.occurred_at,
            self.posted_at,
            self.period,
            self.account,
            self.branch_code,
        )


def export_sort_key(record: PostingRecord) -> tuple[object, ...]:
    """The deterministic export order: period, posted_at, entry id, account code."""
    return (
        record.period,
        record.posted_at,
        entry_id_key(record.entry_id),
        record.account.code,
    )


def export_row(record: PostingRecord) -> ExportRow:
    """The export row of one CNY posting; KPI postings are not money and are refused."""
    if record.unit is not Unit.CNY:
        raise ValueError(f"{record.account} is not a money account and is not exported")
    return ExportRow(
        entry_id=record.entry_id,
        event_id=record.event_id or "",
        occurred_at=format_timestamp(record.occurred_at),
        posted_at=format_timestamp(record.posted_at),
        period=str(record.period),
        account=record.account.code,
        branch_code=record.account.branch_code or "",
        debit_fen=record.debit,
        credit_fen=record.credit,
    )


def export_rows(records: Iterable[PostingRecord]) -> list[ExportRow]:
    """The CNY postings among ``records`` as export rows, in export order."""
    money = sorted((r for r in records if r.unit is Unit.CNY), key=export_sort_key)
    return [export_row(record) for record in money]


def csv_chunks(rows: Iterable[ExportRow], *, bom: bool = True) -> Iterator[str]:
    """The CSV text (header first, CRLF line ends), one chunk per row, for streaming."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(EXPORT_COLUMNS)
    yield (CSV_BOM if bom else "") + _drain(buffer)
    for row in rows:
        writer.writerow(row.cells())
        yield _drain(buffer)


def _drain(buffer: io.StringIO) -> str:
    text = buffer.getvalue()
    buffer.seek(0)
    buffer.truncate()
    return text


def render_csv(rows: Iterable[ExportRow], *, bom: bool = True) -> bytes:
    """The whole CSV file as UTF-8 bytes (for small exports and tests)."""
    return "".join(csv_chunks(rows, bom=bom)).encode("utf-8")


@dataclass(frozen=True, slots=True)
class ExportTotals:
    """Control totals recorded with every export (debits equal credits when balanced)."""

    row_count: int
    debit_fen: int
    credit_fen: int


def export_totals(rows: Iterable[ExportRow]) -> ExportTotals:
    count = debit = credit = 0
    for row in rows:
        count += 1
        debit += row.debit_fen
        credit += row.credit_fen
    return ExportTotals(row_count=count, debit_fen=debit, credit_fen=credit)

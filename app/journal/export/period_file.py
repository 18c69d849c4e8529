"""`o2o ledger export`: the money postings of one period as CSV or XLSX, audited.

Rows, columns, order and escaping come from the core (``ledger.export``). On PostgreSQL the
CSV is produced by ``COPY ... TO STDOUT`` (see ``postgres_copy``), which applies the same rules
in SQL and is checked byte for byte against this path by the tests.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import BinaryIO

from sqlalchemy import text
from sqlmodel import Session

from app import audit
from app.db import is_sqlite
from app.journal.export import accountant_file, postgres_copy
from app.journal.store import posting_records
from ledger.accountant_export import accountant_rows
from ledger.export import EXPORT_COLUMNS, ExportRow, csv_chunks, export_row
from ledger.periods import Period

FORMATS = ("csv", "xlsx")
LAYOUTS = ("canonical", "accountant")  # the hashed record, or the accountants' reading of it
_CREATED = datetime(2000, 1, 1)  # xlsx metadata is naive by format; fixed for re-exports


@dataclass(frozen=True, slots=True)
class ExportResult:
    period: str
    format: str
    rows: int
    debit_fen: int
    credit_fen: int
    sha256: str
    bytes: int


class _Tally:
    """Control totals gathered while the rows stream past."""

    def __init__(self) -> None:
        self.rows = self.debit = self.credit = 0

    def count(self, rows: Iterable[ExportRow]) -> Iterator[ExportRow]:
        for row in rows:
            self.rows += 1
            self.debit += row.debit_fen
            self.credit += row.credit_fen
            yield row


_COUNT_ROWS = text("SELECT count(*) FROM ledger_line p WHERE p.period = :period AND p.unit = 'CNY'")


def count_rows(session: Session, *, period: Period) -> int:
    """How many rows the period's export has (its CNY postings), without reading them."""
    return int(session.execute(_COUNT_ROWS, {"period": str(period)}).scalar_one())


def export_rows(session: Session, *, period: Period) -> Iterator[ExportRow]:
    """The period's CNY postings as export rows, in the deterministic export order."""
    found = posting_records.stream_records(
        session, where="p.period = :period AND p.unit = 'CNY'", params={"period": str(period)},
        order=posting_records.account_order(session),
    )  # fmt: skip
    return (export_row(record) for record in found)


def export_period(
    session: Session, *, period: Period, fmt: str, out: Path, actor: str, use_copy: bool = True,
    layout: str = "canonical",
) -> ExportResult:  # fmt: skip
    """Write the export to ``out`` and record it in the audit log."""
    if fmt not in FORMATS:
        raise ValueError(f"unknown export format {fmt!r}")
    if layout not in LAYOUTS:
        raise ValueError(f"unknown export layout {layout!r}")
    tally = _Tally()
    with out.open("wb") as stream:
        if layout == "accountant":
            rows = accountant_rows(tally.count(export_rows(session, period=period)),
                                   branch_names=accountant_file.branch_names(session))  # fmt: skip
            if fmt == "xlsx":
                accountant_file.write_xlsx(out, rows)
            else:
                accountant_file.write_csv(stream, rows)
        elif fmt == "xlsx":
            _write_xlsx(out, tally.count(export_rows(session, period=period)))
        elif use_copy and not is_sqlite(session):
            totals = postgres_copy.write_csv(session, period=period, stream=stream)
            tally.rows, tally.debit, tally.credit = totals
        else:
            _write_csv(stream, tally.count(export_rows(session, period=period)))
    result = ExportResult(
        period=str(period), format=fmt, rows=tally.rows, debit_fen=tally.debit,
        credit_fen=tally.credit, sha256=_sha256(out), bytes=out.stat().st_size,
    )  # fmt: skip
    _audit(session, result=result, actor=actor, file=out.name, layout=layout)
    return result


def _write_csv(stream: BinaryIO, rows: Iterable[ExportRow]) -> None:
    buffer: list[str] = []
    for chunk in csv_chunks(rows):
        buffer.append(chunk)
        if len(buffer) >= 2_000:  # fewer, larger writes
            stream.write("".join(buffer).encode("utf-8"))
            buffer.clear()
    stream.write("".join(buffer).encode("utf-8"))


def _write_xlsx(path: Path, rows: Iterable[ExportRow]) -> None:
    import xlsxwriter  # only this path needs it

    # constant_memory streams rows to disk; a fixed creation date keeps re-exports identical.
    workbook = xlsxwriter.Workbook(str(path), {"constant_memory": True})
    workbook.set_properties({"created": _CREATED})
    sheet = workbook.add_worksheet("postings")
    for col, name in enumerate(EXPORT_COLUMNS):
        sheet.write_string(0, col, name)
    for line, row in enumerate(rows, start=1):
        for col, value in enumerate(row.values()):
            if isinstance(value, int):
                sheet.write_number(line, col, value)
            else:
                sheet.write_string(line, col, value)  # ids stay text: no 1.23E+17
    workbook.close()


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _audit(session: Session, *, result: ExportResult, actor: str, file: str, layout: str) -> None:
    audit.record(
        session, actor=actor, action="ledger.export", entity_type="period",
        entity_id=result.period,
        detail={
            "file": file, "format": result.format, "layout": layout, "rows": result.rows,
            "debit_fen": result.debit_fen, "credit_fen": result.credit_fen,
            "sha256": result.sha256, "bytes": result.bytes,
        },
    )  # fmt: skip

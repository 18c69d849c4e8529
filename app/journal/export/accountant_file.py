"""The period export in the accountants' layout (ledger/accountant_export.py) as CSV or XLSX:
Chinese headers, amounts in yuan (XLSX: numbers shown with two decimals), branch names, real
date cells, a totals row."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from pathlib import Path
from typing import BinaryIO

from sqlmodel import Session, select

from app.tables import Branch
from ledger.accountant_export import ACCOUNTANT_COLUMNS, YUAN_FORMAT, AccountantRow
from ledger.export import CSV_BOM

_CREATED_NAIVE = (2000, 1, 1)  # xlsx metadata, fixed so re-exports are identical


def branch_names(session: Session) -> dict[str, str]:
    return dict(session.exec(select(Branch.code, Branch.name)).all())


def write_csv(stream: BinaryIO, rows: Iterable[AccountantRow]) -> None:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    buffer.write(CSV_BOM)
    writer.writerow(ACCOUNTANT_COLUMNS)
    for row in rows:
        writer.writerow(row.csv_cells())
        if buffer.tell() > 1 << 20:
            stream.write(buffer.getvalue().encode("utf-8"))
            buffer.seek(0)
            buffer.truncate()
    stream.write(buffer.getvalue().encode("utf-8"))


def write_xlsx(path: Path, rows: Iterable[AccountantRow]) -> None:
    from datetime import datetime

    import xlsxwriter

    workbook = xlsxwriter.Workbook(str(path), {"constant_memory": True})
    workbook.set_properties({"created": datetime(*_CREATED_NAIVE)})
    money = workbook.add_format({"num_format": YUAN_FORMAT})
    when = workbook.add_format({"num_format": "yyyy-mm-dd hh:mm:ss"})
    bold_money = workbook.add_format({"num_format": YUAN_FORMAT, "bold": True})
    sheet = workbook.add_worksheet("分录")
    sheet.write_row(0, 0, ACCOUNTANT_COLUMNS)
    for line, row in enumerate(rows, start=1):
        for col, text in enumerate(row.texts):
            if col == 2 and row.occurred_at is not None:
                sheet.write_datetime(line, col, row.occurred_at, when)
            elif col == 3 and row.posted_at is not None:
                sheet.write_datetime(line, col, row.posted_at, when)
            else:
                sheet.write_string(line, col, text)
        style = bold_money if row.total else money
        # fen / 100 is the exact decimal to the cent once shown with two decimals
        sheet.write_number(line, 8, row.debit_fen / 100, style)
        sheet.write_number(line, 9, row.credit_fen / 100, style)
    workbook.close()

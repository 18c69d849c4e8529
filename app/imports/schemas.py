"""What the import endpoints answer: the report `o2o import ... --json` prints."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel

from app.imports.report import ImportReport

# What a form may declare; gbk is read as gb18030, of which it is a subset.
EncodingField = Literal["auto", "utf-8", "gb18030", "gbk"]
FormatField = Literal["auto", "csv", "xlsx"]


class ImportReportRead(BaseModel):
    file: str
    format: Literal["csv", "xlsx"]
    encoding: str | None  # of a CSV file: utf-8 or gb18030
    sheet: str | None  # of a workbook: the worksheet read
    rows: int
    inserted: int
    updated: int
    unchanged: int
    linked: int  # new leads joined to their customer's current owner
    repooled: int  # customers sent back to the pool (a branch closed or a tier dropped)
    seconds: float

    @classmethod
    def of(cls, report: ImportReport) -> ImportReportRead:
        return cls.model_validate(report.as_dict())

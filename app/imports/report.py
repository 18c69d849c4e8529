"""What an import did, for the terminal, the API and the audit log."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class ImportReport:
    file: str
    rows: int
    inserted: int
    updated: int
    unchanged: int
    seconds: float
    linked: int = 0  # new leads joined to their customer's current owner
    repooled: int = 0  # customers sent back to the pool (branch closed or tier dropped)
    file_format: str = "csv"  # "csv" or "xlsx"
    encoding: str | None = "utf-8"  # of a CSV file: "utf-8" or "gb18030"
    sheet: str | None = None  # of a workbook: the worksheet read

    @property
    def rows_per_second(self) -> float:
        return self.rows / self.seconds if self.seconds > 0 else 0.0

    def read_as(self) -> dict[str, object]:
        """The file and how it was read (for the audit log)."""
        return {"file": self.file, "format": self.file_format, "encoding": self.encoding,
                "sheet": self.sheet}  # fmt: skip

    def as_dict(self) -> dict[str, object]:
        """The report as the API and `--json` give it."""
        return {
            **self.read_as(), "rows": self.rows, "inserted": self.inserted,
            "updated": self.updated, "unchanged": self.unchanged, "linked": self.linked,
            "repooled": self.repooled, "seconds": round(self.seconds, 3),
        }  # fmt: skip

    def summary(self) -> str:
        return (
            f"{self.file} ({self._format_text()}): {self.rows} rows, {self.inserted} new, "
            f"{self.updated} updated, {self.unchanged} unchanged{self._linked_text()} "
            f"in {self.seconds:.2f} s ({self.rows_per_second:,.0f} rows/s)"
        )

    def _format_text(self) -> str:
        if self.file_format == "csv":
            return f"CSV, {'GB18030/GBK' if self.encoding == 'gb18030' else 'UTF-8'}"
        return f"XLSX, sheet '{self.sheet}'"

    def _linked_text(self) -> str:
        text = f", {self.linked} linked to their customer's branch" if self.linked else ""
        if self.repooled:
            text += f", {self.repooled} customers back in the pool"
        return text

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

    @property
    def rows_per_second(self) -> float:
        return self.rows / self.seconds if self.seconds > 0 else 0.0

    def summary(self) -> str:
        return (
            f"{self.file}: {self.rows} rows, {self.inserted} new, {self.updated} updated, "
            f"{self.unchanged} unchanged{self._linked_text()} in {self.seconds:.2f} s "
            f"({self.rows_per_second:,.0f} rows/s)"
        )

    def _linked_text(self) -> str:
        text = f", {self.linked} linked to their customer's branch" if self.linked else ""
        if self.repooled:
            text += f", {self.repooled} customers back in the pool"
        return text

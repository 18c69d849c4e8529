"""The funnel as CSV: one row per acquisition week and key, for spreadsheets."""

from __future__ import annotations

import csv
import io

from starlette.responses import Response

from app.analytics.funnel import Funnel, Stages
from spreadsheet_cells import escape_cell

HEADER = ("week", "key", "acquired", "assigned", "contacted", "converted", "revenue_fen",
          "conversion", "conversion_low", "conversion_high", "mean_hours_to_contact",
          "contacted_within_day", "overdue")  # fmt: skip


def funnel_csv(funnel: Funnel) -> str:
    """Keys come from lead files (a channel name), so they are escaped against formulas."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow((*HEADER[:1], funnel.query.by, *HEADER[2:]))
    for cell in funnel.cells:
        writer.writerow((cell.week, escape_cell(cell.key or ""), *_figures(cell.stages)))
    return out.getvalue()


def _figures(s: Stages) -> tuple[str, ...]:
    low, high = s.conversion_interval or (None, None)
    hours = s.mean_hours_to_contact
    return (str(s.acquired), str(s.assigned), str(s.contacted), str(s.converted),
            str(s.revenue_fen), _ratio(s.conversion), _ratio(low), _ratio(high),
            "" if hours is None else f"{hours:.2f}", str(s.contacted_within_day),
            str(s.overdue))  # fmt: skip


def _ratio(value: float | None) -> str:
    return "" if value is None else f"{value:.4f}"


def csv_download(found: Funnel) -> Response:
    """The CSV as a download named for its split and days (the API and the page send it)."""
    name = f"funnel-{found.query.by}-{found.query.start}-{found.query.end}.csv"
    disposition = f'attachment; filename="{name}"'
    return Response(funnel_csv(found), media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": disposition})  # fmt: skip

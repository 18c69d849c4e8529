"""'Where one more advisor helps most': the round's shadow prices as a short ranked table.

A unit of capacity is one more lead a branch can take, i.e. one more advisor slot. Branches
that would take in a left-out lead come first, then the km one more unit saves (issue 15.3).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlmodel import Session, col, select

from app.tables import Branch

SHOWN = 10


@dataclass(frozen=True, slots=True)
class AdvisorGain:
    code: str
    name: str
    load: int
    capacity: int
    leads: int
    km_saved: float
    holds_for: int | None


@dataclass(frozen=True, slots=True)
class AdvisorGains:
    """rows: the best branches; available: False when the round has no exact prices."""

    rows: list[AdvisorGain]
    available: bool
    worthless: int  # branches where one more unit changes nothing


def advisor_gains(session: Session, report: dict[str, Any]) -> AdvisorGains:
    branches = [b for b in report.get("branches") or [] if b.get("marginal_leads") is not None]
    if not branches:
        return AdvisorGains(rows=[], available=False, worthless=0)
    useful = [b for b in branches if b["marginal_leads"] > 0 or b["shadow_price_km"] > 0]
    useful.sort(key=lambda b: (-b["marginal_leads"], -b["shadow_price_km"], b["code"]))
    top = useful[:SHOWN]
    names = _names(session, [b["code"] for b in top])
    rows = [
        AdvisorGain(
            code=b["code"], name=names.get(b["code"], ""), load=b["load"],
            capacity=b["capacity"], leads=b["marginal_leads"], km_saved=b["shadow_price_km"],
            holds_for=b.get("shadow_price_holds_for"),
        )
        for b in top
    ]  # fmt: skip
    return AdvisorGains(rows=rows, available=True, worthless=len(branches) - len(useful))


def _names(session: Session, codes: list[str]) -> dict[str, str]:
    if not codes:
        return {}
    found = session.exec(select(Branch.code, Branch.name).where(col(Branch.code).in_(codes)))
    return {str(code): str(name) for code, name in found.all()}

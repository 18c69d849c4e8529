"""Every CSV the product serves escapes cells a spreadsheet would run (issue 13, finding 6).

Revenue event ids come from finance's files: one such as `=1+1` or the full-width `＝1+1` must
reach a branch statement or an export as text (a leading apostrophe), never as a formula.
"""

from __future__ import annotations

import csv
import io

from app.db import session_scope
from app.journal import service as ledger_service
from spreadsheet_cells import FORMULA_TRIGGERS
from tests.app.factories import write
from tests.security.conftest import BRANCH_A, SecurityWorld
from tests.web.finance_data import HEADER

SEPTEMBER = HEADER + (
    "=1+1,A1,product_fee,3.00,2026-09-02T10:00:00,app\n"
    "\uff1d1+1,A1,product_fee,4.00,2026-09-03T10:00:00,app\n"
    "@SUM(A1),A1,product_fee,5.00,2026-09-04T10:00:00,app\n"
    "-2,A1,product_fee,-1.00,2026-09-05T10:00:00,app\n"
)


def close_september(world: SecurityWorld) -> None:
    with session_scope(world.engine) as session:
        ledger_service.import_revenue(
            session, path=write(world.folder, "september.csv", SEPTEMBER), actor="test"
        )
    with session_scope(world.engine) as session:
        ledger_service.close_period(session, period="2026-09", actor="test")


def formula_cells(text: str) -> list[str]:
    return [
        cell
        for row in csv.reader(io.StringIO(text.lstrip("\ufeff")))
        for cell in row
        if cell.startswith(FORMULA_TRIGGERS) and not cell.lstrip("-").isdigit()
    ]


def test_a_branch_statement_escapes_event_ids_that_start_a_formula(
    security_world: SecurityWorld,
) -> None:
    close_september(security_world)
    response = security_world.api.get(
        f"/api/v1/ledger/statements/2026-09/{BRANCH_A}",
        headers=security_world.actors["finance"].api_headers,
    )
    assert response.status_code == 200, response.text
    assert formula_cells(response.text) == []
    for event_id in ("'=1+1", "'\uff1d1+1", "'@SUM(A1)", "'-2"):
        assert f",{event_id}," in response.text  # entry_id, event_id, ...
    assert ",-100," in response.text  # the refund's amount stays a number


def test_the_ledger_export_escapes_the_same_cells(security_world: SecurityWorld) -> None:
    close_september(security_world)
    response = security_world.api.get(
        "/api/v1/ledger/export?period=2026-09&format=csv",
        headers=security_world.actors["finance"].api_headers,
    )
    assert response.status_code == 200, response.text
    assert formula_cells(response.text) == []
    assert ",'\uff1d1+1," in response.text

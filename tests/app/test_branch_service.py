"""HQ's one-at-a-time branch changes obey the branch import's rules: one capacity rule (never
below the customers held), the same cell parsers, re-pooling on deactivation; audited."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy.engine import Engine

from app.branches.importer import import_branches
from app.branches.service import deactivate_branch, set_capacity
from app.db import session_scope
from app.errors import Conflict, FileRejected, InvalidInput
from tests.app.factories import BRANCHES_CSV, write
from tests.web.helpers import add_lead


def test_the_page_and_the_import_refuse_a_capacity_below_the_load_alike(
    engine: Engine, branch_ids: dict[str, int], tmp_path: Path
) -> None:
    for i in range(3):
        add_lead(engine, external_id=f"L-{i}", branch_id=branch_ids["SZ-FT"])
    with pytest.raises(Conflict) as by_page, session_scope(engine) as session:
        set_capacity(session, code="SZ-FT", capacity="2", actor="hq1")
    shrunk = BRANCHES_CSV.replace("22.541,114.055,100", "22.541,114.055,2")
    with pytest.raises(FileRejected) as by_file, session_scope(engine) as session:
        import_branches(session, path=write(tmp_path, "b.csv", shrunk), actor="hq1")
    assert by_page.value.coded == by_file.value.errors[0].said
    with session_scope(engine) as session:
        assert set_capacity(session, code="SZ-FT", capacity="3", actor="hq1").capacity == 3
    with pytest.raises(InvalidInput, match="not a whole number"), session_scope(engine) as s:
        set_capacity(s, code="SZ-FT", capacity="3.5", actor="hq1")


def test_deactivating_releases_the_customers_and_is_refused_twice(
    engine: Engine, branch_ids: dict[str, int]
) -> None:
    add_lead(engine, external_id="L-1", branch_id=branch_ids["BJ-CY"])
    with session_scope(engine) as session:
        assert deactivate_branch(session, code="BJ-CY", actor="hq1") == 1
    with pytest.raises(Conflict, match="already inactive"), session_scope(engine) as session:
        deactivate_branch(session, code="BJ-CY", actor="hq1")

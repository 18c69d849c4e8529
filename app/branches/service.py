"""Branch changes HQ makes one at a time (issue 17.3): create, change capacity, deactivate.

The rules are those of the branch file import (app/branches/importer.py): the fields are
parsed by the same cell parsers, a capacity may not drop below the customers the branch holds
now (`holdings.below_load`, counted as every capacity check counts), and a deactivated branch's
customers go back to the pool (`repool_ineligible`). The branch row is locked first, as a
transfer into it locks it, so a transfer and a capacity cut take turns. Each change is audited.
"""

from __future__ import annotations

from collections.abc import Mapping

from sqlmodel import Session, col, select

from app import audit
from app.branches.importer import as_dict, parse_branch
from app.errors import Conflict, InvalidInput, NotFound
from app.imports.csvfile import CsvRow, ErrorCollector
from app.imports.fields import CellError, parse_int, reason_of
from app.ownership.holdings import below_load, branch_load
from app.ownership.repool import repool_ineligible
from app.tables import Branch
from app.tables.base import utcnow
from coded_messages import message


def create_branch(session: Session, *, fields: Mapping[str, str], actor: str) -> Branch:
    """A new active branch from its fields as typed; FileRejected names each bad field."""
    errors = ErrorCollector(file="form")
    row = parse_branch(CsvRow(line=1, values=dict(fields)), errors)
    errors.raise_if_any()
    assert row is not None  # no error was collected
    if session.exec(select(Branch.id).where(Branch.code == row.code)).first() is not None:
        errors.add(1, "code", message("branch.exists", branch=row.code))
        errors.raise_if_any()
    branch = Branch.model_validate({**as_dict(row), "active": True})
    session.add(branch)
    session.flush()
    audit.record(session, actor=actor, action="branch.create", entity_type="branch",
                 entity_id=branch.code, detail=as_dict(row) | {"active": True})  # fmt: skip
    return branch


def set_capacity(session: Session, *, code: str, capacity: str, actor: str) -> Branch:
    """Give the branch `capacity` places (typed text), never fewer than the customers it holds."""
    branch = _locked(session, code)
    try:
        places = parse_int(capacity.strip(), low=0, what="capacity")
    except CellError as exc:
        raise InvalidInput(reason_of(exc)) from None
    held = branch_load(session, branch.id or 0)
    below = below_load(branch_code=branch.code, capacity=places, held=held)
    if below is not None:
        raise Conflict(below)
    before = branch.capacity
    branch.capacity, branch.updated_at = places, utcnow()
    session.flush()
    detail: dict[str, object] = {"from": before, "to": places, "held": held}
    audit.record(session, actor=actor, action="branch.capacity", entity_type="branch",
                 entity_id=branch.code, detail=detail)  # fmt: skip
    return branch


def deactivate_branch(session: Session, *, code: str, actor: str) -> int:
    """Close the branch to new leads; its customers go back to the pool. Returns how many."""
    branch = _locked(session, code)
    if not branch.active:
        raise Conflict(message("branch.already_inactive", branch=branch.code))
    branch.active, branch.updated_at = False, utcnow()
    session.flush()
    released = repool_ineligible(session, branch=branch, actor=actor)
    audit.record(session, actor=actor, action="branch.deactivate", entity_type="branch",
                 entity_id=branch.code, detail={"repooled": released})  # fmt: skip
    return released


def _locked(session: Session, code: str) -> Branch:
    query = select(Branch).where(col(Branch.code) == code).with_for_update()
    branch = session.exec(query).first()
    if branch is None:
        raise NotFound(message("branch.unknown", branch=code))
    return branch

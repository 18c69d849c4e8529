"""`o2o import branches`: validate the whole file, then upsert by code in one transaction."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from sqlmodel import Session, col, select

from app import audit
from app.imports.csvfile import CsvRow, ErrorCollector
from app.imports.fields import (
    CellError,
    parse_bool,
    parse_code,
    parse_float,
    parse_int,
    parse_region_code,
    parse_text,
    parse_tiers,
    reason_of,
)
from app.imports.report import ImportReport
from app.imports.source import Reading, open_rows
from app.ownership.holdings import below_load, branch_loads
from app.ownership.repool import repool_ineligible
from app.tables import Branch
from app.tables.base import utcnow
from coded_messages import message

REQUIRED = ("code", "name", "lat", "lon", "capacity")


@dataclass(frozen=True, slots=True)
class BranchRow:
    code: str
    name: str
    lat: float
    lon: float
    capacity: int
    tiers: str
    region_code: str | None
    active: bool


def import_branches(
    session: Session,
    *,
    path: Path,
    actor: str,
    file_name: str | None = None,
    reading: Reading = Reading(),
) -> ImportReport:
    """`file_name` names the file in errors and the report (an upload's own name)."""
    started = time.perf_counter()
    name = file_name or path.name
    with open_rows(path, file=name, required=REQUIRED, reading=reading) as opened:
        rows, lines = _validated_rows(opened.rows, file=name)
    locked = select(Branch).order_by(col(Branch.id)).with_for_update()  # same order as commits
    existing = {b.code: b for b in session.exec(locked)}
    _check_capacity_above_load(session, rows, lines, existing=existing, file=name)
    inserted = updated = 0
    changed: list[Branch] = []
    for row in rows:
        branch = existing.get(row.code)
        if branch is None:
            session.add(Branch.model_validate(as_dict(row)))
            inserted += 1
        elif _apply(branch, row):
            updated += 1
            changed.append(branch)
    session.flush()
    repooled = sum(repool_ineligible(session, branch=b, actor=actor) for b in changed)
    report = ImportReport(
        file=name,
        rows=len(rows),
        inserted=inserted,
        updated=updated,
        unchanged=len(rows) - inserted - updated,
        repooled=repooled,
        seconds=time.perf_counter() - started,
        file_format=opened.file_format,
        encoding=opened.encoding,
        sheet=opened.sheet,
    )
    audit.record(
        session, actor=actor, action="import.branches", entity_type="branch", detail=_detail(report)
    )
    return report


def _check_capacity_above_load(
    session: Session,
    rows: list[BranchRow],
    lines: dict[str, int],
    *,
    existing: dict[str, Branch],
    file: str,
) -> None:
    """Capacity may not drop below the customers a branch holds now (`holdings.below_load`)."""
    errors = ErrorCollector(file=file)
    loads = branch_loads(session)
    for row in rows:
        branch = existing.get(row.code)
        held = loads.get(branch.id or 0, 0) if branch is not None else 0
        below = below_load(branch_code=row.code, capacity=row.capacity, held=held)
        if row.active and below is not None:
            errors.add(lines[row.code], "capacity", below)
    errors.raise_if_any()


def _validated_rows(rows: Iterable[CsvRow], *, file: str) -> tuple[list[BranchRow], dict[str, int]]:
    """The valid rows, and the line each code is on; raises with every bad row."""
    errors = ErrorCollector(file=file)
    seen: dict[str, int] = {}
    valid: list[BranchRow] = []
    for row in rows:
        parsed = parse_branch(row, errors)
        if parsed is None:
            continue
        if parsed.code in seen:
            first = seen[parsed.code]
            errors.add(row.line, "code", message("branch.duplicate_code", branch=parsed.code,
                                                 first=first))  # fmt: skip
            continue
        seen[parsed.code] = row.line
        valid.append(parsed)
    errors.raise_if_any()
    return valid, seen


def parse_branch(row: CsvRow, errors: ErrorCollector) -> BranchRow | None:
    """One branch's cells parsed (a file's row, or the branches page's form); each bad cell
    goes to `errors` and gives None."""
    cells: dict[str, object] = {}
    parsers: dict[str, Callable[[str], object]] = {
        "code": parse_code,
        "name": lambda v: _required_text(v, 200),
        "lat": lambda v: parse_float(v, low=-90, high=90, what="latitude"),
        "lon": lambda v: parse_float(v, low=-180, high=180, what="longitude"),
        "capacity": lambda v: parse_int(v, low=0, what="capacity"),
        "tiers": lambda v: "|".join(parse_tiers(v)),
        "region_code": lambda v: parse_region_code(v) if v else None,
        "active": lambda v: parse_bool(v) if v else True,
    }
    ok = True
    for column, parse in parsers.items():
        try:
            cells[column] = parse(row.get(column))
        except CellError as exc:
            errors.add(row.line, column, reason_of(exc))
            ok = False
    return BranchRow(**cells) if ok else None  # type: ignore[arg-type]


def _required_text(value: str, max_length: int) -> str:
    if not value:
        raise CellError(message("cell.required"))
    return parse_text(value, max_length=max_length)


def as_dict(row: BranchRow) -> dict[str, object]:
    return {name: getattr(row, name) for name in BranchRow.__slots__}


def _apply(branch: Branch, row: BranchRow) -> bool:
    """Copy changed fields onto the branch; True when anything changed."""
    changes = {k: v for k, v in as_dict(row).items() if getattr(branch, k) != v}
    for key, value in changes.items():
        setattr(branch, key, value)
    if changes:
        branch.updated_at = utcnow()
    return bool(changes)


def _detail(report: ImportReport) -> dict[str, object]:
    return {
        **report.read_as(),
        "rows": report.rows,
        "inserted": report.inserted,
        "updated": report.updated,
    }

"""Lead queries. Branch visibility is decided here, once, for every branch-facing read."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Row, func
from sqlmodel import Session, col, select

from app.auth import Principal
from app.tables import Branch, Lead, LeadPlacement


@dataclass(frozen=True, slots=True)
class LeadFilter:
    status: str | None = None
    branch_code: str | None = None
    channel: str | None = None
    tier: str | None = None
    sort: str = "id"  # "id", "oldest" or "newest" (by acquisition time)
    search: str | None = None  # a mobile number, its last four digits, a name, an external id


def visible_leads(principal: Principal) -> Any:
    """The one scoping rule: branch users see only leads their branch currently owns (found
    through `lead_placement`, which carries the branch indexes: app/tables/lead.py)."""
    if not principal.is_branch:
        return select(Lead, Branch.code).join(
            Branch, col(Lead.branch_id) == col(Branch.id), isouter=True
        )
    return (
        select(Lead, Branch.code)
        .join(LeadPlacement, col(LeadPlacement.lead_id) == col(Lead.id))
        .join(Branch, col(Branch.id) == col(LeadPlacement.branch_id))
        .where(col(LeadPlacement.branch_id) == principal.branch_id)
    )


# What a list shows of each lead, read as plain rows: building an ORM entity per listed lead
# was the largest single cost of a branch list under load (issue 18.2, bench/RESULTS.md).
_LISTED_NAMES = (
    "id", "external_id", "channel", "name", "erased_at", "tier", "status", "mobile", "lat", "lon",
    "region_code", "location_source", "acquired_at",
)  # fmt: skip
LISTED = tuple(col(getattr(Lead, name)) for name in _LISTED_NAMES)


@dataclass(frozen=True, slots=True)
class _Keys:
    """The columns a list filters and sorts by: the placement's for a branch (its indexes
    serve each page), the lead's own for HQ; the same values either way."""

    status: Any
    acquired_at: Any
    id: Any


def _keys(principal: Principal) -> _Keys:
    if principal.is_branch:
        return _Keys(col(LeadPlacement.status), col(LeadPlacement.acquired_at),
                     col(LeadPlacement.lead_id))  # fmt: skip
    return _Keys(col(Lead.status), col(Lead.acquired_at), col(Lead.id))


def _filtered(principal: Principal, flt: LeadFilter) -> Any:
    query = visible_leads(principal)
    if flt.status:
        query = query.where(_keys(principal).status == flt.status)
    if flt.branch_code:
        query = query.where(Branch.code == flt.branch_code)
    if flt.channel:
        query = query.where(Lead.channel == flt.channel)
    if flt.tier:
        query = query.where(Lead.tier == flt.tier)
    return query


def _ordering(sort: str, keys: _Keys) -> tuple[Any, ...]:
    if sort == "oldest":
        return (keys.acquired_at.asc(), keys.id)
    if sort == "newest":
        return (keys.acquired_at.desc(), keys.id.desc())
    return (keys.id,)


def list_leads(
    session: Session,
    *,
    principal: Principal,
    flt: LeadFilter,
    limit: int,
    offset: int,
    found: Any = None,
) -> tuple[list[Row[Any]], int]:
    """A page of the leads the principal sees that pass the filter (and `found`, the
    condition a search gave: app/leads/search.py): rows of `LISTED` and `branch_code`."""
    query = _filtered(principal, flt)
    if found is not None:
        query = query.where(found)
    total = _placed_count(session, principal, flt) if found is None else None
    if total is None:
        total = session.exec(select(func.count()).select_from(query.subquery())).one()
    page = query.with_only_columns(*LISTED, col(Branch.code).label("branch_code"))
    rows = session.execute(
        page.order_by(*_ordering(flt.sort, _keys(principal))).limit(limit).offset(offset)
    ).all()
    return list(rows), int(total)


def _placed_count(session: Session, principal: Principal, flt: LeadFilter) -> int | None:
    """A branch page's total from its placement rows alone, when no filter needs the lead's
    own columns: the same number (one placement row per placed lead, kept by the database)
    without reading a lead row per placement (8 clients at 1.3M: the join was most of a page).
    None: the filter needs the lead."""
    if not principal.is_branch or flt.channel or flt.tier or flt.branch_code:
        return None
    query = select(func.count()).where(col(LeadPlacement.branch_id) == principal.branch_id)
    if flt.status:
        query = query.where(col(LeadPlacement.status) == flt.status)
    return int(session.exec(query).one())


def get_lead(
    session: Session, *, principal: Principal, lead_id: int
) -> tuple[Lead, str | None] | None:
    row = session.exec(visible_leads(principal).where(Lead.id == lead_id)).first()
    return None if row is None else (row[0], row[1])

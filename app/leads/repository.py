"""Lead queries. Branch visibility is decided here, once, for every branch-facing read."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from sqlalchemy import bindparam, func
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
    return _visible(principal.is_branch, principal.branch_id)


def _visible(branch_scoped: bool, branch_id: Any) -> Any:
    """`branch_id`: the branch's id, or a bind parameter in a statement built once."""
    if not branch_scoped:
        return select(Lead, Branch.code).join(
            Branch, col(Lead.branch_id) == col(Branch.id), isouter=True
        )
    return (
        select(Lead, Branch.code)
        .join(LeadPlacement, col(LeadPlacement.lead_id) == col(Lead.id))
        .join(Branch, col(Branch.id) == col(LeadPlacement.branch_id))
        .where(col(LeadPlacement.branch_id) == branch_id)
    )


# What a list shows of each lead, read as plain rows: building an ORM entity per listed lead
# was the largest single cost of a branch list under load (issue 18.2, bench/RESULTS.md).
LISTED_FIELDS = (
    "id", "external_id", "channel", "name", "erased_at", "tier", "status", "mobile", "lat", "lon",
    "region_code", "location_source", "acquired_at",
)  # fmt: skip
LISTED = tuple(col(getattr(Lead, name)) for name in LISTED_FIELDS)
PAGE_FIELDS = (*LISTED_FIELDS, "branch_code")  # a page's fields, in the order of its rows


@dataclass(frozen=True, slots=True)
class _Keys:
    """The columns a list filters and sorts by: the placement's for a branch (its indexes
    serve each page), the lead's own for HQ; the same values either way."""

    status: Any
    acquired_at: Any
    id: Any


def _keys(branch_scoped: bool) -> _Keys:
    if branch_scoped:
        return _Keys(col(LeadPlacement.status), col(LeadPlacement.acquired_at),
                     col(LeadPlacement.lead_id))  # fmt: skip
    return _Keys(col(Lead.status), col(Lead.acquired_at), col(Lead.id))


@dataclass(frozen=True, slots=True)
class _Shape:
    """What a list's statement depends on besides its values: one statement is built per
    shape and reused, its values bound at each request. Building and compiling the page and
    its count anew cost a branch list more CPU than reading them (issue 18.2)."""

    branch_scoped: bool
    status: bool
    branch_code: bool
    channel: bool
    tier: bool
    sort: str

    @property
    def counts_placements(self) -> bool:
        """A branch page's total from its placement rows alone, when no filter needs the
        lead's own columns: the same number (one placement row per placed lead, kept by the
        database) without reading a lead row per placement (8 clients at 1.3M: the join was
        most of a page)."""
        return self.branch_scoped and not (self.channel or self.tier or self.branch_code)


def _shape(principal: Principal, flt: LeadFilter) -> _Shape:
    return _Shape(principal.is_branch, bool(flt.status), bool(flt.branch_code),
                  bool(flt.channel), bool(flt.tier), flt.sort)  # fmt: skip


def _values(principal: Principal, flt: LeadFilter) -> dict[str, Any]:
    return {"branch_id": principal.branch_id, "status": flt.status,
            "branch_code": flt.branch_code, "channel": flt.channel, "tier": flt.tier}  # fmt: skip


@lru_cache(maxsize=128)  # 2 scopes x 16 filter combinations x 3 sorts at most
def _filtered(shape: _Shape) -> Any:
    query = _visible(shape.branch_scoped, bindparam("branch_id"))
    if shape.status:
        query = query.where(_keys(shape.branch_scoped).status == bindparam("status"))
    if shape.branch_code:
        query = query.where(col(Branch.code) == bindparam("branch_code"))
    if shape.channel:
        query = query.where(col(Lead.channel) == bindparam("channel"))
    if shape.tier:
        query = query.where(col(Lead.tier) == bindparam("tier"))
    return query


@lru_cache(maxsize=128)
def _page(shape: _Shape) -> Any:
    return _paged(shape, _filtered(shape), _count(shape))


def _paged(shape: _Shape, filtered: Any, count: Any) -> Any:
    """The page's rows, each with the total as its last column: one statement, so one round
    trip and one snapshot for both (the count runs once, as an uncorrelated subquery)."""
    total = count.scalar_subquery().label("total")
    page = filtered.with_only_columns(*LISTED, col(Branch.code).label("branch_code"), total)
    ordering = _ordering(shape.sort, _keys(shape.branch_scoped))
    return page.order_by(*ordering).limit(bindparam("limit")).offset(bindparam("offset"))


@lru_cache(maxsize=128)
def _count(shape: _Shape) -> Any:
    if not shape.counts_placements:
        return _counted(_filtered(shape))
    query = select(func.count()).where(col(LeadPlacement.branch_id) == bindparam("branch_id"))
    if shape.status:
        query = query.where(col(LeadPlacement.status) == bindparam("status"))
    return query


def _counted(filtered: Any) -> Any:
    return select(func.count()).select_from(filtered.subquery())


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
) -> tuple[list[dict[str, Any]], int]:
    """A page of the leads the principal sees that pass the filter (and `found`, the
    condition a search gave: app/leads/search.py): `PAGE_FIELDS` by name. Read on the
    session's connection, as plain dicts: neither needs the ORM (nor a Row's attribute
    lookups, 4 us a lead)."""
    shape = _shape(principal, flt)
    values = _values(principal, flt)
    page, count = _page(shape), _count(shape)
    if found is not None:  # a search's condition is built per request: not cached
        filtered = _filtered(shape).where(found)
        count = _counted(filtered)
        page = _paged(shape, filtered, count)
    connection = session.connection()
    rows = connection.execute(page, {**values, "limit": limit, "offset": offset}).all()
    # A page past the end has no row to carry the total.
    total = rows[0][-1] if rows else connection.execute(count, values).scalar_one()
    return [dict(zip(PAGE_FIELDS, row[:-1], strict=True)) for row in rows], int(total)


def get_lead(
    session: Session, *, principal: Principal, lead_id: int
) -> tuple[Lead, str | None] | None:
    row = session.exec(visible_leads(principal).where(Lead.id == lead_id)).first()
    return None if row is None else (row[0], row[1])

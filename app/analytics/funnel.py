"""The follow-up funnel: acquired -> assigned -> contacted -> converted -> revenue.

Leads are counted by the Shanghai week they were acquired in (a cohort), split by channel,
branch or tier. A stage counts a lead that has reached it by its current state: an assigned or
contacted time, or a status at or past the stage. Revenue is what the revenue files imported
for the lead (fen, before reversals). HQ and auditors see every lead; a branch sees only the
leads it owns now, as everywhere else (app/leads/repository.visible_leads).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, fields
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import Integer, and_, case, func, literal, or_, select
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session, col

from app.analytics.sql import seconds_between, shanghai_week
from app.analytics.stats import wilson_interval
from app.auth import Principal
from app.errors import InvalidInput
from app.tables import Branch, Lead, LeadPlacement
from app.tables.base import UTCDateTime
from app.tables.journal import RevenueEventRow
from coded_messages import message
from ledger.periods import SHANGHAI

DIMENSIONS = ("channel", "branch", "tier")
MAX_DAYS = 366  # one query covers at most a year of cohorts
DAY_SECONDS = 86_400.0
DEFAULT_WEEKS = 12


class BadFunnelQuery(InvalidInput):
    """A refused query, as a code each surface says in its own language (funnel.*)."""


@dataclass(frozen=True, slots=True)
class FunnelQuery:
    by: str
    start: date  # first acquisition day, Shanghai calendar, inclusive
    end: date  # last acquisition day, inclusive

    def __post_init__(self) -> None:
        if self.by not in DIMENSIONS:
            raise BadFunnelQuery(message("funnel.unknown_dimension",
                                         dimensions=", ".join(DIMENSIONS), by=self.by))  # fmt: skip
        if self.end < self.start:
            raise BadFunnelQuery(
                message("funnel.reversed", start=str(self.start), end=str(self.end))
            )
        if (self.end - self.start).days + 1 > MAX_DAYS:
            raise BadFunnelQuery(message("funnel.too_long", max=MAX_DAYS))


def default_query(*, by: str, today: date) -> FunnelQuery:
    """The last twelve weeks, from a Monday through today."""
    monday = today - timedelta(days=today.weekday())
    return FunnelQuery(by=by, start=monday - timedelta(weeks=DEFAULT_WEEKS - 1), end=today)


@dataclass(frozen=True, slots=True)
class Stages:
    acquired: int = 0
    assigned: int = 0
    contacted: int = 0
    converted: int = 0
    revenue_fen: int = 0
    timed_contacts: int = 0  # contacted leads with both an assignment and a contact time
    contact_seconds: float = 0.0  # their assignment-to-contact times, summed
    contacted_within_day: int = 0
    overdue: int = 0  # assigned, not contacted, past the follow-up deadline now

    def __add__(self, other: Stages) -> Stages:
        return Stages(*(getattr(self, f.name) + getattr(other, f.name) for f in fields(Stages)))

    @property
    def conversion(self) -> float | None:
        """Converted per assigned lead: the branch's part of the funnel."""
        return self.converted / self.assigned if self.assigned else None

    @property
    def conversion_interval(self) -> tuple[float, float] | None:
        return wilson_interval(self.converted, self.assigned)

    @property
    def mean_hours_to_contact(self) -> float | None:
        return self.contact_seconds / self.timed_contacts / 3600 if self.timed_contacts else None


@dataclass(frozen=True, slots=True)
class FunnelCell:
    week: str  # the Monday, YYYY-MM-DD
    key: str | None  # channel, branch code or tier; None: no branch (still in the pool)
    stages: Stages


@dataclass(frozen=True, slots=True)
class Funnel:
    query: FunnelQuery
    cells: list[FunnelCell]  # one per (week, key) with leads, by week then key
    by_key: list[tuple[str | None, Stages]]  # the whole range, per key
    by_week: list[tuple[str, Stages]]  # all keys, per week
    total: Stages


def funnel(
    session: Session, *, principal: Principal, query: FunnelQuery, overdue_before: datetime
) -> Funnel:
    """The funnel of the leads acquired in the query's days that the principal may see;
    `overdue_before` is the follow-up cutoff (a lead assigned earlier and not contacted is
    overdue)."""
    dialect = session.get_bind().dialect.name
    rows = session.execute(_grouped(principal, query, overdue_before, dialect)).all()
    cells = [FunnelCell(week=str(r.week), key=r.key, stages=_stages(r)) for r in rows]
    return Funnel(query=query, cells=cells, by_key=_summed(cells, lambda c: c.key),
                  by_week=_summed(cells, lambda c: c.week), total=_total(cells))  # fmt: skip


def _grouped(
    principal: Principal, query: FunnelQuery, overdue_before: datetime, dialect: str
) -> Any:
    acquired = func.coalesce(col(Lead.acquired_at), col(Lead.created_at))
    revenue = revenue_by_lead()
    week = shanghai_week(acquired, dialect=dialect).label("week")
    key = _key(query.by).label("key")
    statement = (
        select(week, key, *_stage_columns(revenue.c.fen, overdue_before, dialect))
        .select_from(Lead)
        .outerjoin(Branch, col(Branch.id) == col(Lead.branch_id))
        .outerjoin(revenue, revenue.c.lead_id == col(Lead.id))
        .where(acquired >= _instant(_day_start(query.start)))
        .where(acquired < _instant(_day_start(query.end + timedelta(days=1))))
        .group_by(week, key)
        .order_by(week, key)
    )
    if principal.is_branch:
        own = select(col(LeadPlacement.lead_id)).where(
            col(LeadPlacement.branch_id) == principal.branch_id
        )
        statement = statement.where(col(Lead.id).in_(own))
    return statement


def revenue_by_lead() -> Any:
    """Subquery (lead_id, fen): the revenue imported for each lead."""
    return (
        select(col(RevenueEventRow.lead_id), func.sum(col(RevenueEventRow.amount_fen)).label("fen"))
        .group_by(col(RevenueEventRow.lead_id))
        .subquery()
    )


def was_assigned() -> ColumnElement[bool]:
    """The lead reached a branch (an assignment time, or a status at or past assigned)."""
    return or_(col(Lead.assigned_at).is_not(None), _status_in("assigned", "contacted", "converted"))


def was_converted() -> ColumnElement[bool]:
    return _status_in("converted")


def count_of(condition: ColumnElement[bool]) -> ColumnElement[Any]:
    return _count(condition)


def _stage_columns(revenue_fen: Any, overdue_before: datetime, dialect: str) -> list[Any]:
    """One aggregate per field of `Stages`, each over the group's leads."""
    assigned = was_assigned()
    contacted = or_(col(Lead.contacted_at).is_not(None), _status_in("contacted", "converted"))
    timed = and_(col(Lead.contacted_at).is_not(None), col(Lead.assigned_at).is_not(None),
                 col(Lead.contacted_at) >= col(Lead.assigned_at))  # fmt: skip
    took = seconds_between(col(Lead.assigned_at), col(Lead.contacted_at), dialect=dialect)
    since = func.coalesce(col(Lead.assigned_at), col(Lead.acquired_at), col(Lead.created_at))
    overdue = and_(_status_in("assigned"), since < _instant(overdue_before))
    return [
        func.count().label("acquired"),
        _count(assigned).label("assigned"),
        _count(contacted).label("contacted"),
        _count(was_converted()).label("converted"),
        func.coalesce(func.sum(revenue_fen), 0).label("revenue_fen"),
        _count(timed).label("timed_contacts"),
        func.coalesce(func.sum(case((timed, took), else_=0.0)), 0.0).label("contact_seconds"),
        _count(and_(timed, took <= DAY_SECONDS)).label("contacted_within_day"),
        _count(overdue).label("overdue"),
    ]


def _key(by: str) -> Any:
    return {"channel": col(Lead.channel), "tier": col(Lead.tier), "branch": col(Branch.code)}[by]


def _status_in(*statuses: str) -> ColumnElement[bool]:
    return col(Lead.status).in_(statuses)


def _count(condition: ColumnElement[bool]) -> ColumnElement[Any]:
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0).cast(Integer)


def _instant(value: datetime) -> ColumnElement[Any]:
    return literal(value, UTCDateTime())


def _day_start(day: date) -> datetime:
    return datetime.combine(day, time(0), tzinfo=SHANGHAI)


def _stages(row: Any) -> Stages:
    return Stages(
        acquired=int(row.acquired), assigned=int(row.assigned), contacted=int(row.contacted),
        converted=int(row.converted), revenue_fen=int(row.revenue_fen),
        timed_contacts=int(row.timed_contacts), contact_seconds=float(row.contact_seconds),
        contacted_within_day=int(row.contacted_within_day), overdue=int(row.overdue),
    )  # fmt: skip


def _summed(cells: Iterable[FunnelCell], key_of: Any) -> list[Any]:
    sums: dict[Any, Stages] = {}
    for cell in cells:
        sums[key_of(cell)] = sums.get(key_of(cell), Stages()) + cell.stages
    return sorted(sums.items(), key=lambda item: (item[0] is None, item[0] or ""))


def _total(cells: Iterable[FunnelCell]) -> Stages:
    total = Stages()
    for cell in cells:
        total += cell.stages
    return total

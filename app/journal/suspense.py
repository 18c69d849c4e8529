"""What sits in ``suspense:unowned``, event by event, for the finance workbench (read only).

An event is listed while its suspense postings do not sum to zero: its credit found no owner,
and no reclassification or reversal has moved it out yet. Each item says why it had no owner
(read from the ownership intervals of the lead's customer)
and which branch holds the customer now, the likely target of a reclassification.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Row, String, text
from sqlmodel import Session, col, select

from app.journal.store import ledger_rows
from app.journal.store.ledger_rows import CREDIT_ID_OF_ROW
from app.tables import Branch, Lead, Ownership
from app.tables.base import UTCDateTime
from app.tables.correction import CorrectionRequestRow
from coded_messages import Message, message
from ledger.accounts import SUSPENSE_UNOWNED
from ledger.periods import SHANGHAI

# The condition of the partial index ix_journal_posting_suspense, word for word (migration 0017).
_PARKED = f"""
    WITH parked AS (
        SELECT p.event_id AS event_id, -SUM(p.amount) AS fen
        FROM ledger_line p
        WHERE p.account = '{SUSPENSE_UNOWNED}'
        GROUP BY p.event_id
        HAVING SUM(p.amount) <> 0
    )
"""
_MATCHING = """
    WHERE (:search = '' OR r.event_id = :search OR r.external_id = :search)
      AND (k.fen >= :min_fen OR -k.fen >= :min_fen)
"""
_PAGE = (
    _PARKED
    + f"""
    SELECT r.event_id, k.fen, r.occurred_at, r.revenue_type, r.external_id, r.channel,
           r.lead_id, {CREDIT_ID_OF_ROW} AS credit_id
    FROM parked k JOIN revenue_event r ON r.event_id = k.event_id
    """
    + _MATCHING
    + "ORDER BY r.occurred_at DESC, r.event_id LIMIT :limit OFFSET :offset"
)
_TOTALS = (
    _PARKED
    + "SELECT COUNT(*), COALESCE(SUM(k.fen), 0) "
    + "FROM parked k JOIN revenue_event r ON r.event_id = k.event_id"
    + _MATCHING
)


@dataclass(frozen=True, slots=True)
class SuspenseItem:
    event_id: str
    parked_fen: int  # what the event has in suspense now (a credit is positive)
    occurred_at: datetime
    revenue_type: str
    external_id: str
    channel: str | None
    lead_name: str | None
    credit_entry_id: int
    why: Message  # why no branch owned the customer when the revenue occurred
    owner_now: str | None  # the branch holding the customer now
    pending_request: int | None  # a correction of the event waiting for approval


@dataclass(frozen=True, slots=True)
class SuspenseFilter:
    search: str = ""  # an event id or a lead's external id, exactly
    min_fen: int = 0  # only events with at least this much in suspense, either sign


@dataclass(frozen=True, slots=True)
class SuspensePage:
    items: list[SuspenseItem]
    total: int
    total_fen: int


def suspense_page(
    session: Session, *, where: SuspenseFilter, limit: int, offset: int
) -> SuspensePage:
    params = {"search": where.search, "min_fen": where.min_fen}
    total, total_fen = session.execute(text(_TOTALS), params).one()
    query = text(_PAGE).columns(
        event_id=String, fen=BigInteger, occurred_at=UTCDateTime, revenue_type=String,
        external_id=String, channel=String, lead_id=BigInteger, credit_id=BigInteger,
    )  # fmt: skip
    rows = session.execute(query, {**params, "limit": limit, "offset": offset}).all()
    leads = _leads(session, [int(r.lead_id) for r in rows])
    pending = _pending(session, rows)
    items = [
        SuspenseItem(
            event_id=r.event_id, parked_fen=int(r.fen), occurred_at=r.occurred_at,
            revenue_type=r.revenue_type, external_id=r.external_id, channel=r.channel,
            lead_name=leads[r.lead_id].name, credit_entry_id=int(r.credit_id),
            why=_why(leads[r.lead_id].intervals, r.occurred_at),
            owner_now=leads[r.lead_id].owner_now, pending_request=pending.get(r.event_id),
        )
        for r in rows
    ]  # fmt: skip
    return SuspensePage(items=items, total=int(total), total_fen=int(total_fen))


@dataclass(frozen=True, slots=True)
class _Interval:
    valid_from: datetime
    valid_to: datetime | None
    branch: str


@dataclass(frozen=True, slots=True)
class _Lead:
    name: str | None
    intervals: list[_Interval]

    @property
    def owner_now(self) -> str | None:
        return next((i.branch for i in self.intervals if i.valid_to is None), None)


def _leads(session: Session, lead_ids: list[int]) -> dict[int, _Lead]:
    """Each lead's name and the ownership intervals revenue was credited by: its customer's."""
    found = list(session.exec(select(Lead).where(col(Lead.id).in_(lead_ids))))
    customers = [lead.customer_id for lead in found]
    query = (
        select(Ownership, Branch.code)
        .join(Branch, col(Branch.id) == col(Ownership.branch_id))
        .where(col(Ownership.customer_id).in_(customers))
        .order_by(col(Ownership.valid_from))
    )
    held = list(session.exec(query))
    result: dict[int, _Lead] = {}
    for lead in found:
        assert lead.id is not None
        mine = [
            _Interval(o.valid_from, o.valid_to, code) for o, code in held
            if o.customer_id == lead.customer_id
        ]  # fmt: skip
        result[lead.id] = _Lead(name=lead.name, intervals=mine)
    return result


def _why(intervals: list[_Interval], occurred_at: datetime) -> Message:
    if not intervals:
        return message("suspense.never_owned")
    first = intervals[0]
    if first.valid_from > occurred_at:
        since = first.valid_from.astimezone(SHANGHAI).date().isoformat()
        return message("suspense.before_owner", branch=first.branch, since=since)
    return message("suspense.between_owners")


def _pending(session: Session, rows: Sequence[Row[Any]]) -> dict[str, int]:
    """Pending requests of the listed events (a reclassification names the event, a reversal
    the event's credit entry), by event id."""
    events = {("reclassify", r.event_id): r.event_id for r in rows}
    events |= {("reverse", str(r.credit_id)): r.event_id for r in rows}
    query = select(CorrectionRequestRow).where(
        CorrectionRequestRow.status == "pending",
        col(CorrectionRequestRow.target).in_([target for _, target in events]),
    )
    found = {(q.kind, q.target): int(q.id or 0) for q in session.exec(query)}
    return {events[key]: request for key, request in found.items() if key in events}


def credit_of(session: Session, *, event_id: str) -> int | None:
    """The id of the event's crediting entry."""
    return ledger_rows.credit_of(session, event_id=event_id)

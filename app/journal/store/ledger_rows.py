"""Where the ledger's entries are stored, for the lookups the views cannot serve by index.

Readers read the views ``ledger_entry`` and ``ledger_posting`` (migration 0031): the headers
and postings stored in ``journal_entry`` / ``journal_posting`` and, UNION ALL, one derived
credit per event row that carries its own (``revenue_event.period`` set; its id is the
entry id). A credit row's business key ``revenue:<event_id>`` is an expression of the view,
so a lookup *by key* would read every event row; the lookups below ask each half by its own
index instead and find exactly what the view holds. Reversals and adjustments are always
stored (``journal_entry``), so lookups of those kinds read the table itself.
"""

from __future__ import annotations

from sqlalchemy import text
from sqlmodel import Session

from app.db import is_sqlite

CREDIT_PREFIX = "revenue:"
# The entry id of business key :key, in either half of ledger_entry.
ENTRY_ID_BY_KEY = """
    SELECT id FROM journal_entry WHERE business_key = :key
    UNION ALL
    SELECT id FROM revenue_event
    WHERE period IS NOT NULL AND substr(:key, 1, 8) = 'revenue:' AND event_id = substr(:key, 9)
"""
# The id of event :event's credit (stored header by key, or the event's own row).
CREDIT_OF_EVENT = """
    SELECT id FROM journal_entry WHERE business_key = 'revenue:' || :event
    UNION ALL
    SELECT id FROM revenue_event WHERE event_id = :event AND period IS NOT NULL
"""
# A stored credit's id for an event row r of a query (NULL when the row is its own credit).
CREDIT_ID_OF_ROW = """COALESCE(CASE WHEN r.period IS NOT NULL THEN r.id END,
    (SELECT j.id FROM journal_entry j WHERE j.business_key = 'revenue:' || r.event_id))"""


def entry_id_by_key(session: Session, *, business_key: str) -> int | None:
    found = session.execute(text(ENTRY_ID_BY_KEY), {"key": business_key}).scalar()
    return None if found is None else int(found)


def credit_of(session: Session, *, event_id: str) -> int | None:
    found = session.execute(text(CREDIT_OF_EVENT), {"event": event_id}).scalar()
    return None if found is None else int(found)


def lock_entry(session: Session, *, entry_id: int) -> None:
    """Hold the entry's row (header or credit row) until commit; PostgreSQL only (a view of
    a UNION cannot be locked, so each half is locked where the entry lives)."""
    if is_sqlite(session):
        return
    params = {"id": entry_id}
    session.execute(text("SELECT id FROM journal_entry WHERE id = :id FOR UPDATE"), params)
    session.execute(
        text("SELECT id FROM revenue_event WHERE id = :id AND period IS NOT NULL FOR UPDATE"),
        params,
    )


def lock_credit(session: Session, *, event_id: str) -> None:
    """Hold event ``event_id``'s credit (stored header or credit row) until commit."""
    if is_sqlite(session):
        return
    params = {"event": event_id}
    session.execute(
        text("SELECT id FROM journal_entry WHERE business_key = 'revenue:' || :event FOR UPDATE"),
        params,
    )
    session.execute(text("SELECT id FROM revenue_event WHERE event_id = :event FOR UPDATE"), params)

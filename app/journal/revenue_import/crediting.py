"""Crediting the new events of a batch: owner lookup in SQL, the rule in the core.

The owner is the branch whose ownership interval ``[valid_from, valid_to)`` contains the
event's ``occurred_at``: the customer's interval when the lead is linked to a customer, the
lead's own otherwise. No owner: the core credits ``suspense:unowned``. The
split policy in force at ``occurred_at`` for the event's revenue type (``policies``) decides
the branch / HQ online shares and the KPI overlay.

This page-by-page path is the one SQLite uses; PostgreSQL credits a whole batch in SQL
(``sql_crediting``), and the tests hold it to the entries built here.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import text
from sqlmodel import Session

from app import bulk
from app.config import get_settings
from app.journal.policies import versions
from app.journal.store import bulk_entries, period_lock
from ledger.crediting import credit_revenue
from ledger.entries import JournalEntry
from ledger.periods import Period
from ledger.policy import PolicyBook
from ledger.reconciliation import Reconciliation, reconcile
from ledger.revenue import CHANNEL_NAME, RevenueEvent, RevenueType

_OWNER = """
    SELECT b.code FROM ownership o JOIN branch b ON b.id = o.branch_id
    WHERE {match} AND o.valid_from <= e.occurred_at
      AND (o.valid_to IS NULL OR o.valid_to > e.occurred_at)
    ORDER BY o.valid_from DESC LIMIT 1
"""
# The batch's new events with the lead's channel and the owner at occurred_at; shared by the
# paged core path and the set-based path (sql_crediting.py).
NEW_EVENTS_SELECT = f"""
    SELECT e.id, e.event_id, e.external_id, e.revenue_type, e.amount_fen, e.occurred_at,
           l.channel AS lead_channel,
           ({_OWNER.format(match="o.customer_id = l.customer_id")}) AS owner_code
    FROM revenue_event e JOIN lead l ON l.id = e.lead_id
    WHERE e.batch_id = :batch
"""
_NEW_EVENTS = NEW_EVENTS_SELECT + " AND e.id > :after ORDER BY e.id LIMIT :limit"


NO_POLICIES = PolicyBook()


@dataclass(frozen=True, slots=True)
class Credited:
    """One new event and its crediting entry."""

    event: RevenueEvent
    entry: JournalEntry


def overlay_channel(lead_channel: str | None) -> str | None:
    """The channel whose KPI account an imported credit's overlay goes to, or None.

    The channel that acquired the lead; a name that is not a valid account segment gets
    no overlay rather than a malformed account, and none at all when finance turned the
    overlay off (``O2O_LEDGER_KPI_OVERLAY``).
    """
    if not get_settings().ledger_kpi_overlay:
        return None
    return lead_channel if CHANNEL_NAME.fullmatch(lead_channel or "") else None


def new_event_pages(session: Session, *, batch_id: int, page: int) -> Iterator[list[Any]]:
    """The batch's new events with lead channel and owner, in pages (keyset by id)."""
    after = 0
    while True:
        params = {"batch": batch_id, "after": after, "limit": page}
        rows = session.execute(text(_NEW_EVENTS), params).all()
        if not rows:
            return
        after = int(rows[-1][0])
        yield list(rows)


def credit_row(row: Any, *, book: PolicyBook = NO_POLICIES) -> Credited:
    """The core's crediting of one ``NEW_EVENTS_SELECT`` row under the policies of ``book``."""
    _id, event_id, external_id, kind, amount, occurred_at, lead_channel, owner = row
    event = RevenueEvent(
        event_id=event_id,
        external_id=external_id,
        revenue_type=RevenueType(kind),
        amount_fen=int(amount),
        occurred_at=bulk.parse_db_timestamp(occurred_at),
    )
    channel = overlay_channel(lead_channel)
    crediting = credit_revenue(
        event=event, owner_branch_code=owner, policy=versions.split_policy(book, event=event),
        acquiring_channel=channel,
    )  # fmt: skip
    return Credited(event=event, entry=crediting.entry)


def post_page(
    session: Session, *, rows: list[Any], now: datetime, closed: period_lock.ClosedThrough,
    book: PolicyBook = NO_POLICIES,
) -> Reconciliation:  # fmt: skip
    """Credit and write one page of new events; returns its control totals.

    Crediting runs inside the generator the posting COPY consumes, so the server ingests
    postings while Python is still crediting the rest of the page.
    """
    credited: list[Credited] = []

    def entries() -> Iterator[tuple[JournalEntry, Period]]:
        for row in rows:
            done = credit_row(row, book=book)
            credited.append(done)
            yield done.entry, period_lock.period_for(done.entry, now=now, closed=closed)

    bulk_entries.write_stream(session, count=len(rows), entries=entries(), posted_at=now)
    return reconcile(events=[c.event for c in credited], entries=[c.entry for c in credited])


def add_totals(first: Reconciliation, second: Reconciliation) -> Reconciliation:
    return Reconciliation(
        imported_fen=first.imported_fen + second.imported_fen,
        branches_fen=first.branches_fen + second.branches_fen,
        hq_fen=first.hq_fen + second.hq_fen,
        suspense_fen=first.suspense_fen + second.suspense_fen,
    )


# What the batch's credits put in branches, HQ and suspense, from the stored rows: the legs of
# the events that carry their own credit (``ledger_posting`` derives them: the owner's branch,
# or suspense without one) and the stored postings of the others' credits. Read from the rows
# rather than the views, which show a credit row only once its batch row is written.
BATCH_TOTALS = """
    SELECT COALESCE(SUM(t.branches), 0), COALESCE(SUM(t.hq), 0), COALESCE(SUM(t.suspense), 0)
    FROM (
      SELECT CASE WHEN e.owner_code IS NOT NULL THEN e.amount_fen ELSE 0 END AS branches,
             0 AS hq, CASE WHEN e.owner_code IS NULL THEN e.amount_fen ELSE 0 END AS suspense
      FROM revenue_event e WHERE e.batch_id = :batch AND e.period IS NOT NULL
      UNION ALL
      SELECT CASE WHEN p.account LIKE 'branch:%' THEN -p.amount ELSE 0 END,
             CASE WHEN p.account = 'hq:online:revenue' THEN -p.amount ELSE 0 END,
             CASE WHEN p.account = 'suspense:unowned' THEN -p.amount ELSE 0 END
      FROM revenue_event e
      JOIN journal_entry j ON j.business_key = 'revenue:' || e.event_id
      JOIN journal_posting p ON p.entry_id = j.id
      WHERE e.batch_id = :batch AND e.period IS NULL
    ) t
"""
BATCH_IMPORTED = "SELECT COALESCE(SUM(amount_fen), 0) FROM revenue_event WHERE batch_id = :batch"


def stored_totals(session: Session, *, batch_id: int) -> Reconciliation:
    """A batch's control totals recomputed from what is stored (not from memory)."""
    params = {"batch": batch_id}
    imported = session.execute(text(BATCH_IMPORTED), params).scalar_one()
    branches, hq, suspense = session.execute(text(BATCH_TOTALS), params).one()
    return Reconciliation(
        imported_fen=int(imported),
        branches_fen=int(branches),
        hq_fen=int(hq),
        suspense_fen=int(suspense),
    )

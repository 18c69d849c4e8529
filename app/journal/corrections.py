"""Corrections finance posts by hand: reversing an entry, reclassifying suspense.

Neither edits anything: each posts one new balanced entry, keeping the original
``occurred_at`` so that, when that month is closed, it lands in the open month as a
prior-period adjustment. Both are audited in the same transaction.

* A reversal is the exact mirror of an entry (``reversal:<key>``; the database allows one
  per entry). A reversal itself is not reversed: post the intended entry instead.
  Corrections unwind last-in, first-out: an entry of an event is not reversed while a later
  reclassification of that event stands (reversing a reclassified credit would leave the
  branch credited and suspense debited for revenue that no longer exists). Finance reverses
  the reclassification first, then the credit; each step is its own audited entry.
* A reclassification moves what an event left in ``suspense:unowned`` to the rightful
  branch, split by the policy in force at the event's ``occurred_at`` as if the branch had
  owned the customer then. It is an adjustment keyed ``adjustment:<event>:<n>`` and is
  refused when nothing of the event is in suspense (never was, or already moved).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import text
from sqlmodel import Session, select

from app import audit
from app.errors import Conflict, InvalidInput, NotFound
from app.journal.policies import versions
from app.journal.store import ledger_rows, period_lock, stored_entry
from app.tables import Branch
from app.tables.journal import RevenueEventRow
from coded_messages import Message, message
from ledger.accounts import REVENUE_KINDS, SUSPENSE_UNOWNED
from ledger.adjustments import adjustment_key, difference_entry
from ledger.crediting import credit_revenue
from ledger.entries import EntryKind, JournalEntry, Posting, balances, reversal, reversal_key
from ledger.money import Unit
from ledger.periods import posting_period
from ledger.revenue import RevenueEvent, RevenueType

# Reversals and adjustments are always stored (``journal_entry``); a credit may be its event's
# own row (migration 0031), so the event's entries read both halves of ``ledger_entry``.
_REVERSED_BY = "SELECT id FROM journal_entry WHERE reverses = :key"
# A credit is found by its business key; the event_id index holds the other kinds only.
_EVENT_ENTRIES = """
    SELECT id FROM journal_entry
    WHERE business_key = 'revenue:' || :event OR (event_id = :event AND kind <> 'credit')
    UNION ALL
    SELECT id FROM revenue_event WHERE event_id = :event AND period IS NOT NULL
    ORDER BY id
"""
# Reclassifications of the event posted after the entry and not themselves reversed.
_STANDING_RECLASSIFICATIONS = """
    SELECT a.id FROM journal_entry a
    WHERE a.event_id = :event AND a.kind = 'adjustment' AND a.id > :entry
      AND NOT EXISTS (SELECT 1 FROM journal_entry r WHERE r.reverses = a.business_key)
    ORDER BY a.id
"""
_ADJUSTMENTS = """
    SELECT count(*) FROM journal_entry
    WHERE event_id = :event AND kind <> 'credit' AND kind = 'adjustment'
"""


def reverse_entry(
    session: Session, *, entry_id: int, reason: str, actor: str, now: datetime
) -> stored_entry.StoredEntry:
    """Post the mirror of entry ``entry_id``, at most once."""
    period_lock.take_posting_lock(session)
    original = _reversible(session, entry_id=entry_id)
    key = original.entry.business_key
    mirror = reversal(original.entry, memo=f"reversal of entry {entry_id}: {reason}")
    written = _write(session, entry=mirror, now=now)
    audit.record(
        session, actor=actor, action="ledger.reverse", entity_type="journal_entry",
        entity_id=entry_id,
        detail={"reversal_entry_id": written.entry_id, "business_key": reversal_key(key),
                "period": str(written.period), "reason": reason},
    )  # fmt: skip
    return written


def reversal_amount(session: Session, *, entry_id: int) -> int:
    """The money (fen) a reversal of the entry would move, refused as `reverse_entry` would
    refuse it: what the approval threshold is compared with."""
    legs = _reversible(session, entry_id=entry_id).entry.postings
    return sum(p.amount for p in legs if p.unit is Unit.CNY and p.amount > 0)


def _reversible(session: Session, *, entry_id: int) -> stored_entry.StoredEntry:
    original = stored_entry.load_entry(session, entry_id=entry_id, lock=True)
    if original is None:
        raise NotFound(message("ledger.no_entry", entry=entry_id))
    if original.entry.kind is EntryKind.REVERSAL:
        raise Conflict(message("ledger.reversal_of_reversal", entry=entry_id))
    done = session.execute(text(_REVERSED_BY), {"key": original.entry.business_key}).scalar()
    if done is not None:
        raise Conflict(message("ledger.already_reversed", entry=entry_id, by=int(done)))
    _refuse_if_reclassified_later(session, entry_id=entry_id, event_id=original.entry.event_id)
    return original


def _refuse_if_reclassified_later(session: Session, *, entry_id: int, event_id: str | None) -> None:
    """Refuse to reverse an entry whose event was reclassified afterwards (see module doc).

    Reclassifying locks the event's credit row and so does reversing it (PostgreSQL), so a
    reversal and a reclassification racing take turns and the second sees the first."""
    if event_id is None:
        return
    params = {"event": event_id, "entry": entry_id}
    later = session.execute(text(_STANDING_RECLASSIFICATIONS), params).scalars().first()
    if later is not None:
        said = message("ledger.reclassified_later", entry=entry_id, event=event_id, later=later)
        raise Conflict(said)


def reclassify_event(
    session: Session, *, event_id: str, branch_code: str, reason: str, actor: str, now: datetime
) -> stored_entry.StoredEntry:
    """Move event ``event_id``'s suspense balance to ``branch_code``."""
    period_lock.take_posting_lock(session)
    parked = _parked(session, event_id=event_id, branch_code=branch_code)
    entry = _reclassification(
        session, event=parked.event, branch_code=branch_code, booked=parked.booked, reason=reason
    )
    written = _write(session, entry=entry, now=now)
    audit.record(
        session, actor=actor, action="ledger.reclassify", entity_type="revenue_event",
        entity_id=event_id,
        detail={"entry_id": written.entry_id, "branch_code": branch_code,
                "amount_fen": parked.fen, "period": str(written.period), "reason": reason},
    )  # fmt: skip
    return written


def reclassification_amount(session: Session, *, event_id: str, branch_code: str) -> int:
    """The money (fen, either sign counted) a reclassification would move out of suspense,
    refused as `reclassify_event` would refuse it."""
    return abs(_parked(session, event_id=event_id, branch_code=branch_code).fen)


@dataclass(frozen=True, slots=True)
class _Parked:
    event: RevenueEvent
    booked: list[Posting]
    fen: int  # what the event left in suspense (a credit is positive)


def _parked(session: Session, *, event_id: str, branch_code: str) -> _Parked:
    event = _event(session, event_id)
    _require_branch(session, branch_code)
    _lock_credit(session, event_id=event_id)
    booked = _booked_money(session, event_id=event_id)
    fen = -sum(p.amount for p in booked if p.account == SUSPENSE_UNOWNED)
    if fen == 0:
        raise Conflict(_not_in_suspense(session, event_id=event_id, booked=booked))
    return _Parked(event=event, booked=booked, fen=fen)


def _reclassification(
    session: Session, *, event: RevenueEvent, branch_code: str, booked: list[Posting],
    reason: str,
) -> JournalEntry:  # fmt: skip
    """What is booked turned into what the branch owning the customer would have got: the
    core's crediting under the policy in force then, minus what is booked (money only)."""
    target = credit_revenue(
        event=event, owner_branch_code=branch_code, acquiring_channel=None,
        policy=versions.split_policy(versions.load_book(session), event=event),
    ).entry.postings  # fmt: skip
    done = session.execute(text(_ADJUSTMENTS), {"event": event.event_id}).scalar_one()
    entry = difference_entry(
        booked=booked, target=target, occurred_at=event.occurred_at, event_id=event.event_id,
        business_key=adjustment_key(event_id=event.event_id, revision=int(done) + 1),
        memo=f"reclassified from {SUSPENSE_UNOWNED} to branch {branch_code}: {reason}",
    )  # fmt: skip
    # Only revenue-side accounts may move: anything else means the event was not simply
    # parked in suspense (e.g. its credit was partly reversed by hand).
    if entry is None or any(p.account.kind not in REVENUE_KINDS for p in entry.postings):
        raise Conflict(message("ledger.not_plain_suspense", event=event.event_id))
    return entry


def _write(session: Session, *, entry: JournalEntry, now: datetime) -> stored_entry.StoredEntry:
    closed = period_lock.closed_through(session)
    period = posting_period(occurred_at=entry.occurred_at, now=now, closed=closed)
    return stored_entry.write_entry(session, entry=entry, period=period, posted_at=now)


def _event(session: Session, event_id: str) -> RevenueEvent:
    row = session.exec(select(RevenueEventRow).where(RevenueEventRow.event_id == event_id)).first()
    if row is None:
        raise NotFound(message("ledger.no_event", event=event_id))
    return RevenueEvent(
        event_id=row.event_id, external_id=row.external_id,
        revenue_type=RevenueType(row.revenue_type), amount_fen=row.amount_fen,
        occurred_at=row.occurred_at,
    )  # fmt: skip


def _require_branch(session: Session, branch_code: str) -> None:
    if session.exec(select(Branch.id).where(Branch.code == branch_code)).first() is None:
        raise InvalidInput(message("ledger.no_branch", branch=branch_code))


def _lock_credit(session: Session, *, event_id: str) -> None:
    """Hold the event's crediting entry row (PostgreSQL), so that two corrections of the
    same event take turns and the second reads what the first posted."""
    ledger_rows.lock_credit(session, event_id=event_id)


def _booked_money(session: Session, *, event_id: str) -> list[Posting]:
    """Every CNY posting already booked for the event (credit, reversals, adjustments)."""
    ids = [int(r[0]) for r in session.execute(text(_EVENT_ENTRIES), {"event": event_id})]
    legs: list[Posting] = []
    for entry_id in ids:
        found = stored_entry.load_entry(session, entry_id=entry_id)
        assert found is not None  # listed just above, and entries are never deleted
        legs += [p for p in found.entry.postings if p.unit is Unit.CNY]
    return legs


def _not_in_suspense(session: Session, *, event_id: str, booked: list[Posting]) -> Message:
    adjusted = session.execute(text(_ADJUSTMENTS), {"event": event_id}).scalar_one()
    if int(adjusted):
        return message("ledger.already_reclassified", event=event_id)
    held = balances(booked)
    owners = sorted(a.code for a, total in held.items() if total and a.kind in REVENUE_KINDS)
    if owners:
        return message("ledger.credited_elsewhere", event=event_id, accounts=", ".join(owners))
    return message("ledger.credit_reversed", event=event_id)

"""Adjustment entries: the difference between what is booked and what should be.

When crediting must change after the fact (revenue parked in suspense gets an owner, an
ownership interval is corrected, a policy was wrong), the booked entries are never edited.
The service recomputes the correct crediting with :func:`ledger.crediting.credit_revenue`
and posts only the difference, per account, as one adjustment entry. It keeps the event's
``occurred_at``, so when that period is closed the period rules post it in the open period
as a prior-period adjustment (the forward-rolling practice of commission systems).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from ledger.entries import EntryKind, JournalEntry, Posting, balances
from ledger.money import require_int


def adjustment_key(*, event_id: str, revision: int) -> str:
    """Business key of the ``revision``-th adjustment (1, 2, ...) of an event's crediting."""
    if require_int(revision, what="revision") < 1:
        raise ValueError("revision starts at 1")
    return f"adjustment:{event_id}:{revision}"


def difference_entry(
    *,
    booked: Iterable[Posting],
    target: Iterable[Posting],
    business_key: str,
    occurred_at: datetime,
    event_id: str | None = None,
    memo: str = "",
) -> JournalEntry | None:
    """The adjustment turning ``booked`` into ``target``, or ``None`` if they agree.

    ``booked`` is every posting already recorded for the event (the original entry and any
    earlier adjustments); ``target`` the postings it should have. Both balance per unit, so
    their difference does too and the resulting entry is valid by construction.
    """
    have = balances(booked)
    want = balances(target)
    legs = []
    for account in sorted(have.keys() | want.keys()):
        delta = want.get(account, 0) - have.get(account, 0)
        if delta:
            legs.append(Posting(account, delta))
    if not legs:
        return None
    return JournalEntry(
        business_key=business_key,
        kind=EntryKind.ADJUSTMENT,
        occurred_at=occurred_at,
        postings=tuple(legs),
        event_id=event_id,
        memo=memo,
    )

"""Postings and journal entries that cannot exist unbalanced.

A posting carries a signed integer amount: debit positive, credit negative (one column, so
"sums to zero" is literally ``sum(...) == 0``). The unit comes from the account, so a KPI
account can only ever receive KPI points. A :class:`JournalEntry` checks its invariants when
it is built: at least two postings, no zero amounts, no account twice, and a zero sum per unit.

Entries are never edited. A correction is a :func:`reversal` (the exact mirror, keyed
``reversal:<original key>`` so a unique business key in the database allows at most one
reversal per entry) followed, if needed, by a fresh entry.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from ledger.accounts import Account
from ledger.errors import InvalidEntryError, ReversalError, UnbalancedEntryError
from ledger.money import Money, Unit, require_int
from ledger.revenue import require_aware

MAX_KEY_LENGTH = 300


class EntryKind(StrEnum):
    CREDIT = "credit"  # crediting of one revenue event
    REVERSAL = "reversal"  # exact mirror of an earlier entry
    ADJUSTMENT = "adjustment"  # any other correcting entry (e.g. releasing suspense)


@dataclass(frozen=True, slots=True)
class Posting:
    """One leg of an entry. ``amount`` is signed: debit > 0, credit < 0, never zero."""

    account: Account
    amount: int

    def __post_init__(self) -> None:
        if not isinstance(self.account, Account):
            raise TypeError("Posting.account must be an Account")
        if require_int(self.amount, what="Posting.amount") == 0:
            raise InvalidEntryError(f"zero posting to {self.account}")

    @property
    def unit(self) -> Unit:
        return self.account.unit

    @property
    def money(self) -> Money:
        return Money(self.amount, self.unit)

    @property
    def debit(self) -> int:
        """The debit column: the amount if positive, else 0."""
        return max(self.amount, 0)

    @property
    def credit(self) -> int:
        """The credit column: minus the amount if negative, else 0."""
        return max(-self.amount, 0)

    def negated(self) -> Posting:
        return Posting(self.account, -self.amount)


def debit(account: Account, amount: int) -> Posting:
    """A posting that debits ``account`` by ``amount`` (negative amount credits it)."""
    return Posting(account, amount)


def credit(account: Account, amount: int) -> Posting:
    """A posting that credits ``account`` by ``amount`` (negative amount debits it)."""
    return Posting(account, -amount)


@dataclass(frozen=True, slots=True)
class JournalEntry:
    """A balanced set of postings with a unique business key.

    ``occurred_at`` is the economic instant (the revenue event's ``occurred_at``, kept by
    reversals and late corrections); the posting period and ``posted_at`` are decided by the
    service with :func:`ledger.periods.posting_period`.
    """

    business_key: str
    kind: EntryKind
    occurred_at: datetime
    postings: tuple[Posting, ...]
    event_id: str | None = None
    reverses: str | None = None
    memo: str = ""

    def __post_init__(self) -> None:
        object.__setattr__(self, "postings", tuple(self.postings))
        _check_key(self.business_key)
        if not isinstance(self.kind, EntryKind):
            raise InvalidEntryError("kind must be an EntryKind")
        require_aware(self.occurred_at, what="occurred_at")
        if (self.kind is EntryKind.REVERSAL) != (self.reverses is not None):
            raise InvalidEntryError("exactly the reversal entries name the entry they reverse")
        _check_postings(self.postings, key=self.business_key)

    def total(self, unit: Unit) -> int:
        """Sum of the debits in ``unit`` (equal to the credits, by construction)."""
        return sum(p.debit for p in self.postings if p.unit is unit)

    def units(self) -> frozenset[Unit]:
        return frozenset(p.unit for p in self.postings)


def _check_key(key: object) -> None:
    if not isinstance(key, str) or not key or len(key) > MAX_KEY_LENGTH or not key.isprintable():
        raise InvalidEntryError(f"invalid business key {key!r}")


def _check_postings(postings: tuple[Posting, ...], *, key: str) -> None:
    if len(postings) < 2:
        raise InvalidEntryError(f"entry {key!r} needs at least two postings")
    if any(not isinstance(p, Posting) for p in postings):
        raise TypeError("postings must be Posting objects")
    codes = [p.account.code for p in postings]
    if len(set(codes)) != len(codes):
        raise InvalidEntryError(f"entry {key!r} posts to the same account twice")
    sums: dict[Unit, int] = {}
    for posting in postings:
        sums[posting.unit] = sums.get(posting.unit, 0) + posting.amount
    unbalanced = {unit: total for unit, total in sums.items() if total != 0}
    if unbalanced:
        detail = ", ".join(f"{unit}: {total:+d}" for unit, total in sorted(unbalanced.items()))
        raise UnbalancedEntryError(f"entry {key!r} does not balance ({detail})")


def reversal_key(business_key: str) -> str:
    """The business key of the reversal of the entry keyed ``business_key``."""
    return f"reversal:{business_key}"


def reversal(entry: JournalEntry, *, memo: str = "") -> JournalEntry:
    """The mirror of ``entry``: every posting negated, same occurred_at and event.

    A reversal keeps the original ``occurred_at`` so that, if the original period is closed,
    the period rules post it in the open period as a prior-period adjustment. Reversing a
    reversal is refused: re-post the intended entry under a new business key instead.
    """
    if entry.kind is EntryKind.REVERSAL:
        raise ReversalError(f"entry {entry.business_key!r} is itself a reversal")
    return JournalEntry(
        business_key=reversal_key(entry.business_key),
        kind=EntryKind.REVERSAL,
        occurred_at=entry.occurred_at,
        postings=tuple(p.negated() for p in entry.postings),
        event_id=entry.event_id,
        reverses=entry.business_key,
        memo=memo or f"reversal of {entry.business_key}",
    )


def balances(postings: Iterable[Posting]) -> dict[Account, int]:
    """Signed (debit-positive) balance per account over ``postings``."""
    result: dict[Account, int] = {}
    for posting in postings:
        result[posting.account] = result.get(posting.account, 0) + posting.amount
    return result

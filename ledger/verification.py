"""Recomputing the ledger's invariants from stored postings (for ``o2o ledger verify``).

The database already refuses unbalanced or edited entries; this independent pass re-derives
the same facts from the rows themselves, so a broken trigger, a hand-edited table or a lost
row is reported instead of trusted. Each finding names the entry and what is wrong with it.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from ledger.accounts import Account
from ledger.money import Unit
from ledger.records import PostingRecord, entry_id_key


@dataclass(frozen=True, slots=True)
class Discrepancy:
    entry_id: str
    reason: str


def find_discrepancies(records: Iterable[PostingRecord]) -> list[Discrepancy]:
    """Every entry that has < 2 postings, an account twice, a non-zero sum in some unit,
    or postings disagreeing on period, kind, event or timestamps; ordered by entry id."""
    by_entry: dict[str, list[PostingRecord]] = defaultdict(list)
    for record in records:
        by_entry[record.entry_id].append(record)
    found: list[Discrepancy] = []
    for entry_id in sorted(by_entry, key=entry_id_key):
        found.extend(
            Discrepancy(entry_id, reason) for reason in _entry_problems(by_entry[entry_id])
        )
    return found


def _entry_problems(legs: list[PostingRecord]) -> list[str]:
    problems = []
    if len(legs) < 2:
        problems.append("fewer than two postings")
    if len({leg.account for leg in legs}) != len(legs):
        problems.append("the same account posted twice")
    sums: dict[Unit, int] = defaultdict(int)
    for leg in legs:
        sums[leg.unit] += leg.amount
    problems.extend(
        f"{unit} postings sum to {total:+d}" for unit, total in sorted(sums.items()) if total
    )
    header = {(leg.period, leg.kind, leg.event_id, leg.occurred_at, leg.posted_at) for leg in legs}
    if len(header) > 1:
        problems.append("postings disagree on period, kind, event or timestamps")
    return problems


def account_balances(records: Iterable[PostingRecord]) -> dict[Account, int]:
    """Signed (debit-positive) balance per account, in account-code order."""
    totals: dict[Account, int] = defaultdict(int)
    for record in records:
        totals[record.account] += record.amount
    return dict(sorted(totals.items()))


def unit_totals(balances: dict[Account, int]) -> dict[Unit, int]:
    """Sum of the account balances per unit: zero in every unit for a sound ledger."""
    totals: dict[Unit, int] = defaultdict(int)
    for account, balance in balances.items():
        totals[account.unit] += balance
    return dict(totals)

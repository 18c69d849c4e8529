"""Batch reconciliation: imported total = credited to branches + HQ online + suspense.

Every fen of an import batch must land in exactly one revenue-side account. The control
totals are computed from the entries themselves, so a lost or doubled posting shows up as a
non-zero difference.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from ledger.accounts import REVENUE_KINDS, AccountKind
from ledger.entries import JournalEntry
from ledger.money import Unit
from ledger.revenue import RevenueEvent


@dataclass(frozen=True, slots=True)
class Reconciliation:
    """Control totals of a batch: imported = credited to branches + HQ + suspense."""

    imported_fen: int
    branches_fen: int
    hq_fen: int
    suspense_fen: int

    @property
    def credited_fen(self) -> int:
        return self.branches_fen + self.hq_fen + self.suspense_fen

    @property
    def difference_fen(self) -> int:
        return self.imported_fen - self.credited_fen

    @property
    def balanced(self) -> bool:
        return self.difference_fen == 0


def reconcile(*, events: Iterable[RevenueEvent], entries: Iterable[JournalEntry]) -> Reconciliation:
    """Control totals of a batch of events against the entries that credited them."""
    totals = {AccountKind.BRANCH_REVENUE: 0, AccountKind.HQ_REVENUE: 0, AccountKind.SUSPENSE: 0}
    for entry in entries:
        for posting in entry.postings:
            if posting.unit is Unit.CNY and posting.account.kind in REVENUE_KINDS:
                totals[posting.account.kind] -= posting.amount  # credit-normal: credit is +
    return Reconciliation(
        imported_fen=sum(event.amount_fen for event in events),
        branches_fen=totals[AccountKind.BRANCH_REVENUE],
        hq_fen=totals[AccountKind.HQ_REVENUE],
        suspense_fen=totals[AccountKind.SUSPENSE],
    )

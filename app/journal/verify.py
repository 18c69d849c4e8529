"""`o2o ledger verify`: every invariant recomputed from the stored rows.

The triggers already refuse bad writes; this pass trusts none of them. Each check returns
human-readable findings; an empty list from every check means the ledger is sound.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Iterator
from itertools import groupby

from sqlalchemy import text
from sqlmodel import Session

from app.journal import closing
from app.journal.policies import versions
from app.journal.revenue_import import crediting
from app.journal.store import posting_records
from ledger.errors import LedgerError
from ledger.periods import parse_period
from ledger.records import PostingRecord
from ledger.verification import find_discrepancies

_HEADER_COUNTS = """
    SELECT e.id, e.posting_count, COUNT(p.entry_id) FROM ledger_entry e
    LEFT JOIN ledger_posting p ON p.entry_id = e.id
    GROUP BY e.id, e.posting_count HAVING COUNT(p.entry_id) <> e.posting_count ORDER BY e.id
"""
_ORPHANS = """
    SELECT DISTINCT p.entry_id FROM ledger_posting p
    WHERE NOT EXISTS (SELECT 1 FROM ledger_entry e WHERE e.id = p.entry_id) ORDER BY 1
"""
_UNIT_TOTALS = "SELECT unit, SUM(amount) FROM ledger_posting GROUP BY unit HAVING SUM(amount) <> 0"
_DUPLICATE_KEYS = """
    SELECT business_key FROM ledger_entry GROUP BY business_key HAVING COUNT(*) > 1
    UNION ALL
    SELECT 'reversal of ' || reverses FROM ledger_entry WHERE reverses IS NOT NULL
    GROUP BY reverses HAVING COUNT(*) > 1
"""
_BAD_CREDIT_KEYS = """
    SELECT business_key FROM ledger_entry
    WHERE kind = 'credit' AND (event_id IS NULL OR business_key <> 'revenue:' || event_id)
"""
_UNCREDITED = """
    SELECT r.event_id FROM revenue_event r WHERE NOT EXISTS (
        SELECT 1 FROM ledger_entry e WHERE e.business_key = 'revenue:' || r.event_id)
"""
_LATE_POSTINGS = """
    SELECT e.id, e.period, c.period FROM ledger_entry e
    JOIN ledger_closed_period c ON c.period >= e.period AND e.posted_at > c.closed_at
    ORDER BY e.id
"""
# Per event, what sits in suspense must be part of what the event brought (same sign, no
# more): anything else means suspense was drained for revenue that is not there.
_SUSPENSE_BY_EVENT = """
    SELECT r.event_id, SUM(p.amount), r.amount_fen FROM ledger_line p
    JOIN revenue_event r ON r.event_id = p.event_id
    WHERE p.account = 'suspense:unowned'
    GROUP BY r.event_id, r.amount_fen
    HAVING (SUM(p.amount) > 0 AND r.amount_fen > 0) OR (SUM(p.amount) < 0 AND r.amount_fen < 0)
        OR ABS(SUM(p.amount)) > ABS(r.amount_fen)
    ORDER BY r.event_id
"""
# A standing reclassification of an event whose credit was reversed.
_RECLASSIFIED_AFTER_REVERSAL = """
    SELECT a.id, a.event_id, c.id FROM ledger_entry a
    JOIN ledger_entry c ON c.business_key = 'revenue:' || a.event_id
    WHERE a.kind = 'adjustment'
      AND EXISTS (SELECT 1 FROM ledger_entry r WHERE r.reverses = c.business_key)
      AND NOT EXISTS (SELECT 1 FROM ledger_entry r WHERE r.reverses = a.business_key)
    ORDER BY a.id
"""
_BATCHES = "SELECT id, imported_fen, branches_fen, hq_fen, suspense_fen FROM revenue_batch"
_STATEMENTS = "SELECT branch_code, period, sha256, body FROM ledger_statement ORDER BY period, id"


def verify_ledger(session: Session) -> list[str]:
    """All findings, check by check; empty when every invariant holds."""
    checks: tuple[Callable[[Session], Iterable[str]], ...] = (
        _entries, _headers, _totals, _keys, _period_locks, _suspense, _batches, _statements,
        _policies,
    )  # fmt: skip
    return [finding for check in checks for finding in check(session)]


def _rows(session: Session, sql: str) -> list[tuple[object, ...]]:
    return [tuple(row) for row in session.execute(text(sql))]


def _entries(session: Session) -> Iterator[str]:
    """Per entry, in the core: >= 2 legs, no account twice, zero sum per unit."""
    stream = posting_records.stream_records(
        session, where="1 = 1", params={}, order=posting_records.ENTRY_ORDER
    )
    for _entry_id, legs in groupby(stream, key=_entry_of):
        for found in find_discrepancies(legs):
            yield f"entry {found.entry_id}: {found.reason}"


def _entry_of(record: PostingRecord) -> str:
    return record.entry_id


def _headers(session: Session) -> Iterator[str]:
    for entry_id, declared, actual in _rows(session, _HEADER_COUNTS):
        yield f"entry {entry_id}: declares {declared} postings, has {actual}"
    for (entry_id,) in _rows(session, _ORPHANS):
        yield f"postings of entry {entry_id} have no entry"


def _totals(session: Session) -> Iterator[str]:
    for unit, total in _rows(session, _UNIT_TOTALS):
        yield f"all {unit} postings sum to {total}, not 0"


def _keys(session: Session) -> Iterator[str]:
    for (key,) in _rows(session, _DUPLICATE_KEYS):
        yield f"business key {key} is used more than once"
    for (key,) in _rows(session, _BAD_CREDIT_KEYS):
        yield f"credit entry {key} does not carry its event's key"
    for (event_id,) in _rows(session, _UNCREDITED):
        yield f"event {event_id} has no crediting entry"


def _period_locks(session: Session) -> Iterator[str]:
    for entry_id, period, closed in _rows(session, _LATE_POSTINGS):
        yield f"entry {entry_id} was posted into {period} after {closed} was closed"


def _suspense(session: Session) -> Iterator[str]:
    for event_id, held, amount in _rows(session, _SUSPENSE_BY_EVENT):
        yield (
            f"event {event_id}: suspense:unowned holds {-int(held):+d} fen of an event of "  # type: ignore[call-overload]
            f"{amount} fen (more than, or opposite to, what the event brought)"
        )
    for adjustment, event_id, credit in _rows(session, _RECLASSIFIED_AFTER_REVERSAL):
        yield (
            f"event {event_id}: reclassification entry {adjustment} stands although its "
            f"credit entry {credit} was reversed"
        )


def _batches(session: Session) -> Iterator[str]:
    for batch_id, *stored in _rows(session, _BATCHES):
        again = crediting.stored_totals(session, batch_id=int(batch_id))  # type: ignore[call-overload]
        recomputed = [again.imported_fen, again.branches_fen, again.hq_fen, again.suspense_fen]
        if [int(v) for v in stored] != recomputed:  # type: ignore[call-overload]
            yield f"batch {batch_id}: stored totals {stored} but postings give {recomputed}"
        if not again.balanced:
            yield f"batch {batch_id}: imported {again.imported_fen}, credited {again.credited_fen}"


def _statements(session: Session) -> Iterator[str]:
    rebuilt: dict[str, dict[str, str]] = {}
    for branch_code, period, sha256, body in _rows(session, _STATEMENTS):
        where = f"statement {branch_code} {period}"
        if hashlib.sha256(str(body).encode("utf-8")).hexdigest() != sha256:
            yield f"{where}: stored text does not match its hash"
        if str(period) not in rebuilt:
            built = closing.build_statements(session, period=parse_period(str(period)))
            rebuilt[str(period)] = {s.branch_code: s.sha256 for s in built}
        again = rebuilt[str(period)].get(str(branch_code))
        if again != sha256:
            yield f"{where}: postings now give hash {again}, stored {sha256}"


def _policies(session: Session) -> Iterator[str]:
    """The stored split policies still form a valid book (shares, ids, no overlap)."""
    try:
        versions.load_book(session)
    except LedgerError as exc:
        yield f"split policies: {exc}"

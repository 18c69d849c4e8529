"""Crediting a whole batch in SQL on PostgreSQL: the default rule, in the event insert.

An event credited by the default rule (100% to the owner at ``occurred_at``, suspense
without one, one KPI point per fen to a validly named acquiring channel) carries its credit
in its own row (migration 0031): the one INSERT ... SELECT that stores the batch's new
events also resolves each one's owner, overlay channel and posting period, and its id, drawn
from the journal entry sequence, is the entry id. The views ``ledger_entry`` and
``ledger_posting`` derive the header and the legs, in the core's order. Events whose revenue
type has a split policy in force at their ``occurred_at`` are stored without a credit
(``period`` NULL) and credited by the core (``crediting.post_page``), so the SQL never has to
round a split; with no split policy stored, nothing goes through the core.

The core stays the reference: every account code the SQL forms (branch codes, channel names)
is validated through the core first, the batch is reconciled from the stored rows before
commit, and the views are compared with the core entry by entry in
``tests/app/test_ledger_import.py`` (and, with policies, ``tests/app/test_ledger_policies.py``);
the database refuses a credit row in a closed period as it refuses a header.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from app.faults import crash_point
from app.journal.policies import versions
from app.journal.revenue_import import crediting
from app.journal.store import period_lock
from ledger.accounts import branch_revenue
from ledger.errors import LedgerError
from ledger.periods import period_of, posting_period
from ledger.policy import PolicyBook
from ledger.reconciliation import Reconciliation

# Every distinct lead channel by a loose scan of the (channel, external_id) index: one probe
# per channel rather than a read of every lead.
_LEAD_CHANNELS = """
    WITH RECURSIVE c (channel) AS (
        SELECT min(channel) FROM lead
        UNION ALL
        SELECT (SELECT min(l.channel) FROM lead l WHERE l.channel > c.channel)
        FROM c WHERE c.channel IS NOT NULL
    )
    SELECT channel FROM c WHERE channel IS NOT NULL
"""
_BRANCH_CODES = "SELECT code FROM branch"
_PERIOD = "to_char({ts} AT TIME ZONE 'Asia/Shanghai', 'YYYY-MM')"
# New events of the stage, earliest first, in a closed period (only asked when the open
# period is closed too: then the core refuses them).
_IN_CLOSED = f"""
    SELECT min(s.occurred_at) FROM {{stage}} s
    WHERE {_PERIOD.format(ts="s.occurred_at")} <= :last_closed
      AND NOT EXISTS (SELECT 1 FROM revenue_event e WHERE e.event_id = s.event_id)
"""
_BAD_OWNER = """
    SELECT owner_code FROM revenue_event
    WHERE batch_id = :batch AND owner_code = ANY(:bad) LIMIT 1
"""
# The new events with their credit, in one statement: the first row of each event_id not
# stored yet, in line order (as ``staging_table.insert_new_events``), its owner at
# occurred_at (the intervals of the lead's customer, staged with the lead; the latest
# valid_from wins; a hash join and one sort rather than an index probe per event), its
# overlay channel and posting period. The id is the column default: the journal entry
# sequence, drawn in line order. In a replayed file ({new_only}: see ``_replayed``) the
# events stored before are left out before their owners are looked up, so a replay costs one
# anti-join rather than the owner join and sort of every row. {on_conflict} is empty for a
# file expected to be new (see ``insert_new_events``).
_INSERT_CREDITED = f"""
    INSERT INTO revenue_event (event_id, external_id, channel, lead_id, revenue_type,
                               amount_fen, occurred_at, batch_id, line,
                               period, owner_code, kpi_channel)
    SELECT n.event_id, n.external_id, n.channel, n.lead_id, n.revenue_type, n.amount_fen,
           n.occurred_at, :batch, n.line,
           CASE WHEN n.split THEN NULL WHEN n.p <= :last_closed THEN :open ELSE n.p END,
           CASE WHEN NOT n.split THEN n.owner_code END,
           CASE WHEN NOT n.split AND n.lead_channel = ANY(:channels) THEN n.lead_channel END
    FROM (
        SELECT DISTINCT ON (s.line) s.*, b.code AS owner_code,
               {_PERIOD.format(ts="s.occurred_at")} AS p, {{split}} AS split
        FROM {{stage}} s
        LEFT JOIN ownership o ON o.customer_id = s.customer_id
             AND o.valid_from <= s.occurred_at
             AND (o.valid_to IS NULL OR o.valid_to > s.occurred_at)
        LEFT JOIN branch b ON b.id = o.branch_id
        {{new_only}}
        ORDER BY s.line, o.valid_from DESC
    ) n
    ORDER BY n.line
    {{on_conflict}}
"""
_SKIP_STORED = "ON CONFLICT (event_id) DO NOTHING"
_EVENT_ID_KEY = "uq_revenue_event_event_id"
_NEW_ONLY = "WHERE NOT EXISTS (SELECT 1 FROM revenue_event e WHERE e.event_id = s.event_id)"
# The file's first lines, looked up one by one in the event_id index (~1,000 probes).
_SAMPLE_LINES = 1000
_STORED_IN_SAMPLE = """
    SELECT count(*), count(*) FILTER (WHERE EXISTS (
        SELECT 1 FROM revenue_event e WHERE e.event_id = s.event_id))
    FROM {stage} s WHERE s.line <= :last_line
"""
_NO_SPLIT = "false"  # the split condition when no split policy is stored
_SPLIT_EVENTS = crediting.NEW_EVENTS_SELECT + " AND e.period IS NULL ORDER BY e.id"
_TOTALS = """
    SELECT count(*), COALESCE(SUM(amount_fen), 0),
           COALESCE(SUM(amount_fen) FILTER (WHERE owner_code IS NOT NULL), 0),
           COALESCE(SUM(amount_fen) FILTER (WHERE owner_code IS NULL), 0)
    FROM revenue_event WHERE batch_id = :batch AND period IS NOT NULL
"""


@dataclass(frozen=True, slots=True)
class CreditTerms:
    """What the event insert needs to credit each new event by the default rule."""

    params: dict[str, Any]
    split: str  # SQL over the stage row ``s``: true when a split policy covers the event
    bad_owners: list[str] = field(default_factory=list)
    book: PolicyBook = crediting.NO_POLICIES


def credit_terms(session: Session, *, now: datetime, stage: str) -> CreditTerms:
    """Channels, periods, split policies and branch codes, read and validated once."""
    book = versions.load_book(session)
    split, params = _split_condition(book)
    last_closed, open_period = _periods(session, now=now, stage=stage)
    channels = [
        str(c) for (c,) in session.execute(text(_LEAD_CHANNELS)) if crediting.overlay_channel(c)
    ]
    params.update(channels=channels, last_closed=last_closed, open=open_period)
    return CreditTerms(params=params, split=split, bad_owners=_bad_branch_codes(session),
                       book=book)  # fmt: skip


def insert_new_events(session: Session, *, batch_id: int, stage: str, terms: CreditTerms) -> int:
    """Store the stage's new events under ``batch_id``, each with its credit; returns how
    many were new (concurrent duplicates wait and are skipped by ON CONFLICT DO NOTHING).

    A file expected to be new is first inserted without ON CONFLICT, inside a savepoint:
    the arbiter's probe of the event_id index before each row and the confirmation of each
    speculative insert cost about a fifth of the insert (bench/ledger_results.md, ninth
    pass), and the unique index refuses a stored event_id all the same. If any row repeats
    an event_id (of the file, stored before, or committed meanwhile by a concurrent import)
    the savepoint is rolled back, and the rows go in again with ON CONFLICT DO NOTHING.
    """
    params = {**terms.params, "batch": batch_id}
    replayed = _replayed(session, stage=stage)
    if not replayed:
        new = _insert_if_all_new(session, sql=_credited_sql(stage, terms), params=params)
        if new is not None:
            return new
    sql = _credited_sql(stage, terms, new_only=replayed, on_conflict=_SKIP_STORED)
    return int(session.execute(text(sql), params).rowcount)  # type: ignore[attr-defined]


def _credited_sql(
    stage: str, terms: CreditTerms, *, new_only: bool = False, on_conflict: str = ""
) -> str:
    return _INSERT_CREDITED.format(split=terms.split, stage=stage, on_conflict=on_conflict,
                                   new_only=_NEW_ONLY if new_only else "")  # fmt: skip


def _insert_if_all_new(session: Session, *, sql: str, params: dict[str, Any]) -> int | None:
    """Rows inserted, or None (nothing inserted) when an event_id was already taken."""
    try:
        with session.begin_nested():
            return int(session.execute(text(sql), params).rowcount)  # type: ignore[attr-defined]
    except IntegrityError as error:
        if _violated_key(error) != _EVENT_ID_KEY:
            raise
        return None


def _violated_key(error: IntegrityError) -> str | None:
    diag = getattr(error.orig, "diag", None)
    return getattr(diag, "constraint_name", None)


def _replayed(session: Session, *, stage: str) -> bool:
    """True when most of the file's first lines name events stored before.

    Only then does the insert leave stored events out first: the planner cannot tell how many
    staged event_ids are stored, and plans the anti-join as if all were (bench, a new
    1,000,000-event file: 21.1 s with it, 11.6 s without; a replay 0.9 s with it, 5.8 s
    without). Either plan stores the same rows.
    """
    sql = _STORED_IN_SAMPLE.format(stage=stage)
    sampled, stored = session.execute(text(sql), {"last_line": _SAMPLE_LINES + 1}).one()
    return 2 * int(stored) > int(sampled)


def credit_batch(
    session: Session, *, batch_id: int, now: datetime, terms: CreditTerms
) -> tuple[int, Reconciliation]:
    """Credit the events of ``batch_id`` the insert left to the core; returns (events, the
    totals the rules give)."""
    if terms.bad_owners:
        found = session.execute(text(_BAD_OWNER), {"batch": batch_id, "bad": terms.bad_owners})
        for (code,) in found:
            branch_revenue(str(code))  # raises the core's error
    crash_point("revenue.import.after_postings")
    count, totals = _totals(session, batch_id=batch_id)
    if terms.split == _NO_SPLIT:  # the insert credited every event (reconciled all the same)
        return count, totals
    split_rows = session.execute(text(_SPLIT_EVENTS), {"batch": batch_id}).all()
    if not split_rows:
        return count, totals
    closed = period_lock.closed_through(session)
    split = crediting.post_page(session, rows=list(split_rows), now=now, closed=closed,
                                book=terms.book)  # fmt: skip
    return count + len(split_rows), crediting.add_totals(totals, split)


def _split_condition(book: PolicyBook) -> tuple[str, dict[str, Any]]:
    """SQL true for a stage row ``s`` a non-default policy covers (they never overlap)."""
    intervals = [p for p in book.policies if not p.is_default_rule]
    terms, params = [], {}
    for n, policy in enumerate(intervals):
        upper = f" AND s.occurred_at < CAST(:u{n} AS timestamptz)" if policy.valid_to else ""
        terms.append(
            f"(s.revenue_type = CAST(:t{n} AS text)"
            f" AND s.occurred_at >= CAST(:f{n} AS timestamptz){upper})"
        )
        params.update({f"t{n}": policy.revenue_type.value, f"f{n}": policy.valid_from})
        if policy.valid_to:
            params[f"u{n}"] = policy.valid_to
    return ("(" + " OR ".join(terms) + ")") if terms else _NO_SPLIT, params


def _bad_branch_codes(session: Session) -> list[str]:
    """Branch codes that cannot form an account (the core refuses them if ever credited)."""
    bad = []
    for (code,) in session.execute(text(_BRANCH_CODES)):
        try:
            branch_revenue(str(code))
        except LedgerError:
            bad.append(str(code))
    return bad


def _periods(session: Session, *, now: datetime, stage: str) -> tuple[str, str]:
    """(latest closed period or '', the open period late events fall into).

    An event in a closed period while the current one is closed too raises the core's
    :class:`ledger.errors.PeriodClosedError`, as posting it through the core would.
    """
    closed = period_lock.closed_through(session)
    open_period = period_of(now)
    if not closed:
        return "", str(open_period)
    last = str(closed.closed[-1])
    if open_period in closed:
        sql = _IN_CLOSED.format(stage=stage)
        earliest = session.execute(text(sql), {"last_closed": last}).scalar_one()
        if earliest is not None:
            posting_period(occurred_at=earliest, now=now, closed=closed)
    return last, str(open_period)


def _totals(session: Session, *, batch_id: int) -> tuple[int, Reconciliation]:
    count, imported, branches, suspense = session.execute(text(_TOTALS), {"batch": batch_id}).one()
    return int(count), Reconciliation(
        imported_fen=int(imported), branches_fen=int(branches), hq_fen=0,
        suspense_fen=int(suspense),
    )  # fmt: skip

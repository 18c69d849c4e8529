"""Split policies in the database: the book the crediting reads, and adding new versions.

A stored version runs from its ``valid_from`` until the next version of the same revenue
type starts; the core :class:`ledger.policy.PolicyBook` is built from the stored rows with
those derived ends, so the core checks every version (shares total 10,000 bp, unique ids,
no two in force at once) on every load as well as before a new one is stored.

Adding is all-or-nothing and never rewrites history, so a version is refused when:
* the core refuses it (shares, ids, parties);
* it starts inside a closed month: it would change the rule of a closed period;
* events of its revenue type inside its validity are already credited: they were credited
  under the rule it would replace (post a reversal or adjustment for them instead).
It takes the close lock, so no import credits under the old book while it is added.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from itertools import groupby

from sqlmodel import Session, col, func, select

from app import audit, bulk
from app.imports.csvfile import ErrorCollector
from app.journal.policies.policy_file import PolicyDraft
from app.journal.store import period_lock
from app.tables.journal import RevenueEventRow
from app.tables.policy import SplitPolicyRow
from coded_messages import message
from ledger.errors import LedgerError
from ledger.periods import format_timestamp
from ledger.policy import PolicyBook, SplitPolicy
from ledger.revenue import RevenueEvent, RevenueType


def stored_rows(session: Session) -> list[SplitPolicyRow]:
    query = select(SplitPolicyRow).order_by(
        col(SplitPolicyRow.revenue_type), col(SplitPolicyRow.valid_from)
    )
    return list(session.exec(query))


def book_of(rows: Sequence[SplitPolicyRow | PolicyDraft]) -> PolicyBook:
    """The core book: each version ends where the next one of its type starts."""
    ordered = sorted(rows, key=lambda r: (str(r.revenue_type), r.valid_from))
    policies = []
    for _kind, versions in groupby(ordered, key=lambda r: str(r.revenue_type)):
        chain = list(versions)
        for row, after in zip(chain, [*chain[1:], None], strict=True):
            policies.append(to_core(row, valid_to=after.valid_from if after else None))
    return PolicyBook(tuple(policies))


def to_core(row: SplitPolicyRow | PolicyDraft, *, valid_to: datetime | None) -> SplitPolicy:
    return SplitPolicy(
        policy_id=row.policy_id, revenue_type=RevenueType(row.revenue_type),
        valid_from=row.valid_from, valid_to=valid_to, branch_bps=row.branch_bps,
        hq_online_bps=row.hq_online_bps, overlay_bps=row.overlay_bps,
    )  # fmt: skip


def split_policy(book: PolicyBook, *, event: RevenueEvent) -> SplitPolicy | None:
    """The policy in force for ``event``; a version that restates the default rule counts
    as none, so it credits exactly like the default (and the fast SQL path can take it)."""
    policy = book.in_force(revenue_type=event.revenue_type, at=event.occurred_at)
    return None if policy is None or policy.is_default_rule else policy


def load_book(session: Session) -> PolicyBook:
    return book_of(stored_rows(session))


def add_policies(
    session: Session, *, drafts: Sequence[PolicyDraft], errors: ErrorCollector, actor: str
) -> list[SplitPolicyRow]:
    """Store ``drafts`` (all or none); every refusal goes to ``errors`` and is raised."""
    period_lock.take_close_lock(session)
    existing = stored_rows(session)
    for draft in drafts:
        _check_draft(session, draft=draft, existing=existing, drafts=drafts, errors=errors)
    _raise_in_line_order(errors)
    try:
        book_of([*existing, *drafts])
    except LedgerError as exc:
        errors.add(drafts[0].line if drafts else 1, "*", exc.said or str(exc))
    errors.raise_if_any()
    added = [_row(draft, actor=actor) for draft in drafts]
    session.add_all(added)
    session.flush()
    for row in added:
        audit.record(
            session, actor=actor, action="ledger.policy.add", entity_type="split_policy",
            entity_id=row.policy_id, detail=read_detail(row),
        )  # fmt: skip
    return added


def _raise_in_line_order(errors: ErrorCollector) -> None:
    errors.errors.sort(key=lambda error: error.line)
    errors.raise_if_any()


def _check_draft(
    session: Session, *, draft: PolicyDraft, existing: Sequence[SplitPolicyRow],
    drafts: Sequence[PolicyDraft], errors: ErrorCollector,
) -> None:  # fmt: skip
    try:
        to_core(draft, valid_to=None)
    except LedgerError as exc:
        errors.add(draft.line, "*", exc.said or str(exc))
        return
    if any(r.policy_id == draft.policy_id for r in existing):
        errors.add(draft.line, "policy_id", message("policy.exists", policy=draft.policy_id))
    if sum(d.policy_id == draft.policy_id for d in drafts) > 1:
        errors.add(draft.line, "policy_id", message("policy.twice", policy=draft.policy_id))
    candidates: list[SplitPolicyRow | PolicyDraft] = [*existing, *drafts]
    same_start = [
        r.policy_id
        for r in candidates
        if r is not draft and _same_type(r, draft) and r.valid_from == draft.valid_from
    ]
    if same_start:
        said = message("policy.same_start", other=same_start[0],
                       revenue_type=draft.revenue_type.value)  # fmt: skip
        errors.add(draft.line, "valid_from", said)
    _check_history(session, draft=draft, existing=existing, errors=errors)


def _check_history(
    session: Session,
    *,
    draft: PolicyDraft,
    existing: Sequence[SplitPolicyRow],
    errors: ErrorCollector,
) -> None:
    """Refuse a version that would change the rule of a closed month or of credited events."""
    closed = period_lock.closed_periods(session)
    if closed and draft.valid_from < closed[-1].end:
        first_open = format_timestamp(closed[-1].end)
        said = message("policy.in_closed_period", period=str(closed[-1]), first_open=first_open)
        errors.add(draft.line, "valid_from", said)
        return
    count, last = _credited_in_range(session, draft=draft, existing=existing)
    if count:
        since = format_timestamp(draft.valid_from)
        said = message("policy.credited", count=count, revenue_type=draft.revenue_type.value,
                       since=since, latest=_shanghai(last))  # fmt: skip
        errors.add(draft.line, "valid_from", said)


def _credited_in_range(
    session: Session, *, draft: PolicyDraft, existing: Sequence[SplitPolicyRow]
) -> tuple[int, object]:
    """(count, latest occurred_at) of stored events the new version would govern: its type,
    from its start until the next stored version of that type starts."""
    later = [
        r.valid_from for r in existing if _same_type(r, draft) and r.valid_from > draft.valid_from
    ]
    query = select(func.count(), func.max(RevenueEventRow.occurred_at)).where(
        RevenueEventRow.revenue_type == draft.revenue_type.value,
        RevenueEventRow.occurred_at >= draft.valid_from,
    )
    if later:
        query = query.where(RevenueEventRow.occurred_at < min(later))
    count, last = session.exec(query).one()
    return int(count), last


def _shanghai(value: object) -> str:
    return format_timestamp(bulk.parse_db_timestamp(value))


def _same_type(row: SplitPolicyRow | PolicyDraft, draft: PolicyDraft) -> bool:
    return str(row.revenue_type) == draft.revenue_type.value


def _row(draft: PolicyDraft, *, actor: str) -> SplitPolicyRow:
    return SplitPolicyRow(
        policy_id=draft.policy_id, revenue_type=draft.revenue_type.value,
        valid_from=draft.valid_from, branch_bps=draft.branch_bps,
        hq_online_bps=draft.hq_online_bps, overlay_bps=draft.overlay_bps,
        reason=draft.reason, created_by=actor[:64],
    )  # fmt: skip


def read_detail(row: SplitPolicyRow) -> dict[str, object]:
    return {
        "policy_id": row.policy_id, "revenue_type": row.revenue_type,
        "valid_from": row.valid_from.isoformat(), "branch_bps": row.branch_bps,
        "hq_online_bps": row.hq_online_bps, "overlay_bps": row.overlay_bps,
        "reason": row.reason,
    }  # fmt: skip

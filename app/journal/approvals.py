"""A second finance user's approval for corrections above O2O_CORRECTION_APPROVAL_FEN.

Every path that asks for a reversal or a reclassification (the API, the finance pages, the
CLI) goes through `ask`: a correction moving at most the threshold is posted at once, a larger
one is stored as a pending request and posted only when `approve` is called by a different
finance user. Nobody decides their own request: refused here with a message, and by the
database (CHECK ``four_eyes``) whatever code writes the row. The amount is what the correction
moves: the event's suspense balance, or the money legs of the entry reversed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import update
from sqlmodel import Session, col, select

from app import audit
from app.db import is_sqlite
from app.errors import Conflict, Forbidden, NotFound
from app.journal import corrections
from app.journal.store import period_lock, stored_entry
from app.tables.correction import CorrectionRequestRow
from coded_messages import message

REVERSE = "reverse"
RECLASSIFY = "reclassify"


@dataclass(frozen=True, slots=True)
class Correction:
    """What a finance user asks for: reverse entry `target`, or move event `target`'s
    suspense balance to `branch_code`."""

    kind: str
    target: str
    reason: str
    branch_code: str | None = None


def ask(
    session: Session, *, correction: Correction, actor: str, now: datetime, above_fen: int
) -> stored_entry.StoredEntry | CorrectionRequestRow:
    """Post the correction, or store it for approval when it moves more than `above_fen`."""
    period_lock.take_posting_lock(session)
    _refuse_if_waiting(session, correction)  # even below the line (the line may have moved)
    amount = _amount(session, correction)
    if amount <= above_fen:
        return _post(session, correction, actor=actor, now=now)
    return _store(session, correction, amount=amount, actor=actor, now=now)


def approve(
    session: Session, *, request_id: int, actor: str, now: datetime
) -> stored_entry.StoredEntry:
    """Post a pending request as asked (a second finance user); it stays pending when the
    correction is refused now (the ledger changed since), to be rejected."""
    period_lock.take_posting_lock(session)
    row = _pending(session, request_id=request_id, actor=actor)
    posted = _post(session, _asked(row), actor=actor, now=now)
    _decide(session, row, state="approved", actor=actor, now=now, entry_id=posted.entry_id)
    return posted


def reject(session: Session, *, request_id: int, actor: str, now: datetime) -> CorrectionRequestRow:
    """Close a pending request without posting anything (a second finance user)."""
    period_lock.take_posting_lock(session)
    row = _pending(session, request_id=request_id, actor=actor)
    _decide(session, row, state="rejected", actor=actor, now=now, entry_id=None)
    return row


def requests(session: Session, *, pending_only: bool, limit: int) -> list[CorrectionRequestRow]:
    """Requests, pending first, newest first within each state."""
    query = select(CorrectionRequestRow)
    if pending_only:
        query = query.where(CorrectionRequestRow.status == "pending")
    order = (col(CorrectionRequestRow.status) != "pending", col(CorrectionRequestRow.id).desc())
    return list(session.exec(query.order_by(*order).limit(limit)))


def _amount(session: Session, correction: Correction) -> int:
    if correction.kind == REVERSE:
        return corrections.reversal_amount(session, entry_id=int(correction.target))
    assert correction.branch_code is not None  # a reclassification names its branch
    return corrections.reclassification_amount(
        session, event_id=correction.target, branch_code=correction.branch_code
    )


def _post(
    session: Session, correction: Correction, *, actor: str, now: datetime
) -> stored_entry.StoredEntry:
    if correction.kind == REVERSE:
        return corrections.reverse_entry(
            session, entry_id=int(correction.target), reason=correction.reason, actor=actor,
            now=now,
        )  # fmt: skip
    assert correction.branch_code is not None
    return corrections.reclassify_event(
        session, event_id=correction.target, branch_code=correction.branch_code,
        reason=correction.reason, actor=actor, now=now,
    )  # fmt: skip


def _refuse_if_waiting(session: Session, correction: Correction) -> None:
    waiting = session.exec(
        select(CorrectionRequestRow.id).where(
            CorrectionRequestRow.kind == correction.kind,
            CorrectionRequestRow.target == correction.target,
            CorrectionRequestRow.status == "pending",
        )
    ).first()
    if waiting is not None:
        raise Conflict(message("correction.already_requested", correction=correction.kind,
                               target=correction.target, request=waiting))  # fmt: skip


def _store(
    session: Session, correction: Correction, *, amount: int, actor: str, now: datetime
) -> CorrectionRequestRow:
    row = CorrectionRequestRow(
        kind=correction.kind, target=correction.target, branch_code=correction.branch_code,
        amount_fen=amount, reason=correction.reason, requested_by=actor, requested_at=now,
    )  # fmt: skip
    session.add(row)
    session.flush()
    audit.record(
        session, actor=actor, action="ledger.correction_request",
        entity_type="correction_request", entity_id=row.id,
        detail={"kind": row.kind, "target": row.target, "branch_code": row.branch_code,
                "amount_fen": amount, "reason": row.reason},
    )  # fmt: skip
    return row


def _pending(session: Session, *, request_id: int, actor: str) -> CorrectionRequestRow:
    """The request, held (PostgreSQL: two deciders take turns), pending and not `actor`'s."""
    query = select(CorrectionRequestRow).where(CorrectionRequestRow.id == request_id)
    if not is_sqlite(session):  # SQLite: the posting lock already made this the one writer
        query = query.with_for_update()
    row = session.exec(query).first()
    if row is None:
        raise NotFound(message("correction.unknown", request=request_id))
    if row.status != "pending":
        raise Conflict(message("correction.decided", request=request_id, state=row.status))
    if row.requested_by == actor:
        raise Forbidden(message("correction.own_request", request=request_id))
    return row


def _decide(
    session: Session, row: CorrectionRequestRow, *, state: str, actor: str, now: datetime,
    entry_id: int | None,
) -> None:  # fmt: skip
    row_id, status = col(CorrectionRequestRow.id), col(CorrectionRequestRow.status)
    still_pending = (row_id == row.id, status == "pending")
    decided = session.execute(
        update(CorrectionRequestRow)
        .where(*still_pending)
        .values(status=state, decided_by=actor, decided_at=now, entry_id=entry_id)
    )
    if decided.rowcount != 1:  # type: ignore[attr-defined]  # decided meanwhile
        raise Conflict(message("correction.decided", request=row.id or 0, state="decided"))
    session.refresh(row)
    audit.record(
        session, actor=actor, action=f"ledger.correction_{'approve' if entry_id else 'reject'}",
        entity_type="correction_request", entity_id=row.id,
        detail={"kind": row.kind, "target": row.target, "requested_by": row.requested_by,
                "amount_fen": row.amount_fen, "entry_id": entry_id},
    )  # fmt: skip


def _asked(row: CorrectionRequestRow) -> Correction:
    return Correction(kind=row.kind, target=row.target, reason=row.reason,
                      branch_code=row.branch_code)  # fmt: skip

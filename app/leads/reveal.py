"""Revealing a full mobile number: explicit, audited, and rate-limited per user."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func
from sqlmodel import Session, select

from app import audit
from app.auth import Principal
from app.db import lock_for_counting
from app.errors import Forbidden, NotFound, TooManyRequests
from app.leads import repository
from app.privacy.cipher import cipher_for
from app.tables import AuditRecord
from app.tables.base import utcnow
from coded_messages import message

REVEAL_ACTION = "lead.reveal_mobile"
WINDOW = timedelta(hours=1)


def reveal_mobile(
    session: Session, *, principal: Principal, lead_id: int, limit_per_hour: int
) -> str | None:
    if principal.role not in ("hq", "branch"):
        raise Forbidden(message("lead.reveal_role"))
    # Counted from the audit log itself, so the limit holds across processes and restarts; the
    # lock makes count-then-record atomic, so parallel reveals cannot all pass the check.
    lock_for_counting(session, f"reveal:{principal.username}")
    row = repository.get_lead(session, principal=principal, lead_id=lead_id)
    if row is None:
        raise NotFound("lead not found")
    if _reveals_last_hour(session, principal.username) >= limit_per_hour:
        raise TooManyRequests(
            message("lead.reveal_limit", limit=limit_per_hour),
            retry_after_seconds=int(WINDOW.total_seconds()),
        )
    audit.record(
        session,
        actor=principal.username,
        action=REVEAL_ACTION,
        entity_type="lead",
        entity_id=lead_id,
    )
    return cipher_for(session).open(row[0].mobile)


def _reveals_last_hour(session: Session, username: str) -> int:
    query = select(func.count()).where(
        AuditRecord.actor == username,
        AuditRecord.action == REVEAL_ACTION,
        AuditRecord.at >= utcnow() - WINDOW,
    )
    return int(session.exec(query).one())

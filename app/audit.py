"""Writing audit records inside the caller's transaction (so they commit or vanish together)."""

from __future__ import annotations

import json
from contextvars import ContextVar

from sqlmodel import Session

from app.tables import AuditRecord

# Set by the HTTP middleware; CLI jobs leave it empty.
current_request_id: ContextVar[str | None] = ContextVar("current_request_id", default=None)


def record(
    session: Session,
    *,
    actor: str,
    action: str,
    entity_type: str,
    entity_id: str | int | None = None,
    detail: dict[str, object] | None = None,
) -> None:
    session.add(
        AuditRecord(
            actor=actor,
            action=action,
            entity_type=entity_type,
            entity_id=None if entity_id is None else str(entity_id),
            request_id=current_request_id.get(),
            detail=canonical(detail or {}),
        )
    )


def canonical(detail: dict[str, object]) -> str:
    """The stored text of a detail: JSON with sorted keys, so equal details compare equal."""
    return json.dumps(detail, ensure_ascii=False, sort_keys=True, default=str)

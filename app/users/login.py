"""Signing in, with a brake on password guessing shared by the API and the pages.

Failed attempts are audit records (so they are counted across processes and restarts) written
in their own transaction: the request's own transaction rolls back on the failure.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from app import audit
from app.auth import authenticate
from app.config import Settings
from app.db import session_scope
from app.errors import TooManyRequests
from app.tables import AuditRecord, User
from app.tables.base import utcnow

FAILED_LOGIN = "auth.login_failed"


def sign_in(
    session: Session,
    *,
    engine: Engine,
    settings: Settings,
    username: str,
    password: str,
    client: str | None = None,
) -> User | None:
    """The user, or None for a wrong password; TooManyRequests while the name, or the client
    address (guessing many names from one place), is locked out."""
    since = utcnow() - timedelta(minutes=settings.login_lockout_minutes)
    later = f"try again in {settings.login_lockout_minutes} minutes"
    if _recent_failures(session, since, username=username) >= settings.login_max_failures:
        raise TooManyRequests(f"too many failed sign-ins for this account; {later}")
    if client and _recent_failures(session, since, client=client) >= (
        settings.login_max_failures_per_client
    ):
        raise TooManyRequests(f"too many failed sign-ins from this address; {later}")
    user = authenticate(session, username=username, password=password)
    if user is None:
        with session_scope(engine) as own:
            audit.record(
                own,
                actor=username[:64],
                action=FAILED_LOGIN,
                entity_type="user",
                entity_id=username[:128],
                detail=_client_detail(client),
            )
    return user


def _client_detail(client: str | None) -> dict[str, object]:
    return {"client": client[:64]} if client else {}


def _recent_failures(
    session: Session, since: object, *, username: str | None = None, client: str | None = None
) -> int:
    query = select(func.count()).where(
        col(AuditRecord.action) == FAILED_LOGIN, col(AuditRecord.at) >= since
    )
    if username is not None:
        query = query.where(col(AuditRecord.entity_id) == username[:128])
    if client is not None:  # the detail is canonical JSON (sorted keys), so equality is exact
        query = query.where(col(AuditRecord.detail) == audit.canonical(_client_detail(client)))
    return int(session.exec(query).one())

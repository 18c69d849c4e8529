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
    session: Session, *, engine: Engine, settings: Settings, username: str, password: str
) -> User | None:
    """The user, or None for a wrong password; TooManyRequests while the name is locked out."""
    window = timedelta(minutes=settings.login_lockout_minutes)
    if (
        _recent_failures(session, username=username, since=utcnow() - window)
        >= settings.login_max_failures
    ):
        raise TooManyRequests(
            "too many failed sign-ins for this account; "
            f"try again in {settings.login_lockout_minutes} minutes"
        )
    user = authenticate(session, username=username, password=password)
    if user is None:
        with session_scope(engine) as own:
            audit.record(
                own,
                actor=username[:64],
                action=FAILED_LOGIN,
                entity_type="user",
                entity_id=username[:128],
            )
    return user


def _recent_failures(session: Session, *, username: str, since: object) -> int:
    query = select(func.count()).where(
        col(AuditRecord.action) == FAILED_LOGIN,
        col(AuditRecord.entity_id) == username[:128],
        col(AuditRecord.at) >= since,
    )
    return int(session.exec(query).one())

"""Signing in, with a brake on password guessing shared by the API and the pages.

Every attempt is an audit record written and committed in the request's own session before the
password is checked, under a lock on the client address (`db.lock_for_counting`), so parallel
guesses are counted as they start: at most the limit are ever evaluated. The hash is checked
after that commit, without holding the lock. The outcome (success or failure) is a second record.

Who is locked out (docs/security.md):
- an (account, address) pair after `login_max_failures` attempts without a success in the
  window: an attacker elsewhere cannot lock the real user out of the account;
- an address after `login_max_failures_per_client` failed attempts in the window (guessing many
  names from one place).
`o2o users unlock --username U` forgives the account's earlier attempts (audited).
"""

from __future__ import annotations

import logging
import os
import threading
from datetime import datetime, timedelta

from sqlalchemy import func
from sqlmodel import Session, col, select

from app import audit
from app.auth import authenticate
from app.config import Settings
from app.db import lock_for_counting
from app.errors import DatabaseBusy, TooManyRequests
from app.tables import AuditRecord, User
from app.tables.base import utcnow
from coded_messages import message

ATTEMPT = "auth.login_attempt"
SUCCEEDED = "auth.login_succeeded"
FAILED_LOGIN = "auth.login_failed"
LOCKOUT_STARTED = "auth.lockout_started"
UNLOCKED = "auth.unlocked"

log = logging.getLogger(__name__)

# A password check costs ~20 ms of a core (Argon2id, app.auth), releasing the GIL: a burst of
# sign-ins would still take every core from the other requests. Half the cores
# check passwords at most; a sign-in waits a little for one, then gets 503 with Retry-After.
HASHING_SLOTS = max(1, (os.cpu_count() or 2) // 2)
HASHING_WAIT_SECONDS = 0.5
_HASHING = threading.BoundedSemaphore(HASHING_SLOTS)


def sign_in(
    session: Session,
    *,
    settings: Settings,
    username: str,
    password: str,
    client: str | None = None,
) -> User | None:
    """The user, or None for a wrong password; TooManyRequests while this account from this
    address, or this address for any account, is locked out. Commits the request's session."""
    name = username[:128]
    if not _HASHING.acquire(timeout=HASHING_WAIT_SECONDS):
        raise DatabaseBusy(message("server.sign_ins_busy"))
    try:
        _count_the_attempt(session, settings=settings, name=name, client=client)
        user, rehashed = authenticate(session, username=username, password=password)
    finally:
        _HASHING.release()
    # End the read before writing: on SQLite a write after a read in one transaction fails at
    # once if another writer committed in between; a write that starts a transaction waits.
    session.commit()
    if user is not None and rehashed is not None:
        user.password_hash = rehashed
    action = SUCCEEDED if user is not None else FAILED_LOGIN
    _record(session, action, name=name, client=client)
    session.commit()  # the API answers a failure by raising: the record must already be stored
    return user


def unlock(session: Session, *, username: str, actor: str) -> None:
    """Forgive the account's earlier attempts from every address (the HQ unlock command)."""
    audit.record(
        session, actor=actor, action=UNLOCKED, entity_type="user", entity_id=username[:128]
    )


def _count_the_attempt(
    session: Session, *, settings: Settings, name: str, client: str | None
) -> None:
    lock_for_counting(session, f"login:{client}" if client else f"login-user:{name}")
    window = timedelta(minutes=settings.login_lockout_minutes)
    # The pair's count restarts at its own last success, or at an HQ unlock of the account.
    since = max(
        utcnow() - window,
        _last(session, SUCCEEDED, name=name, client=client),
        _last(session, UNLOCKED, name=name, client=None),
    )
    retry = int(window.total_seconds())
    later = f"try again in {settings.login_lockout_minutes} minutes"
    pair = _count(session, ATTEMPT, since, name=name, client=client)
    if pair >= settings.login_max_failures:
        raise TooManyRequests(
            f"too many failed sign-ins for this account from here; {later}",
            retry_after_seconds=retry,
        )
    if client:
        failures = _count(session, FAILED_LOGIN, utcnow() - window, name=None, client=client)
        if failures >= settings.login_max_failures_per_client:
            raise TooManyRequests(
                f"too many failed sign-ins from this address; {later}", retry_after_seconds=retry
            )
    _record(session, ATTEMPT, name=name, client=client)
    if pair + 1 == settings.login_max_failures:  # this attempt is the last one allowed
        _record(session, LOCKOUT_STARTED, name=name, client=client)
        log.warning("sign-in lockout started for %r from %s", name, client or "unknown address")
    session.commit()  # releases the lock before the (slow) password hash is checked


def _record(session: Session, action: str, *, name: str, client: str | None) -> None:
    audit.record(
        session,
        actor=name[:64],
        action=action,
        entity_type="user",
        entity_id=name,
        detail=_client_detail(client),
    )


def _client_detail(client: str | None) -> dict[str, object]:
    return {"client": client[:64]} if client else {}


def _filtered(query: object, *, name: str | None, client: str | None) -> object:
    if name is not None:
        query = query.where(col(AuditRecord.entity_id) == name)  # type: ignore[attr-defined]
    if client is not None:  # the detail is canonical JSON (sorted keys), so equality is exact
        query = query.where(  # type: ignore[attr-defined]
            col(AuditRecord.detail) == audit.canonical(_client_detail(client))
        )
    return query


def _count(
    session: Session, action: str, since: datetime, *, name: str | None, client: str | None
) -> int:
    query = select(func.count()).where(
        col(AuditRecord.action) == action, col(AuditRecord.at) >= since
    )
    return int(session.exec(_filtered(query, name=name, client=client)).one())  # type: ignore[call-overload]


def _last(session: Session, action: str, *, name: str, client: str | None) -> datetime:
    """When `action` last happened to the account (from `client`), or the epoch."""
    query = select(func.max(AuditRecord.at)).where(col(AuditRecord.action) == action)
    found = session.exec(_filtered(query, name=name, client=client)).one()  # type: ignore[call-overload]
    return found if found is not None else datetime(1970, 1, 1, tzinfo=utcnow().tzinfo)

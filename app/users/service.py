"""Staff accounts: creating, deactivating, moving between branches, resetting passwords."""

from __future__ import annotations

import re

from sqlmodel import Session, select

from app import audit
from app.auth import hash_password
from app.errors import Conflict, InvalidInput, NotFound
from app.tables import Branch, User
from app.tables.user import ROLES
from coded_messages import message

USERNAME_PATTERN = re.compile(r"[A-Za-z0-9_.@-]{3,64}")
MIN_PASSWORD_LENGTH = 8


def create_user(
    session: Session,
    *,
    username: str,
    password: str,
    role: str,
    branch_code: str | None,
    actor: str,
) -> User:
    if not USERNAME_PATTERN.fullmatch(username):
        raise InvalidInput(message("user.bad_username"))
    if role not in ROLES:
        raise InvalidInput(message("user.bad_role", roles=", ".join(ROLES)))
    _check_password(password)
    branch = _branch_for_role(session, role=role, branch_code=branch_code)
    if session.exec(select(User).where(User.username == username)).first() is not None:
        raise Conflict(message("user.exists", username=username))
    user = User(
        username=username,
        password_hash=hash_password(password),
        role=role,
        branch_id=branch.id if branch else None,
    )
    session.add(user)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="user.create",
        entity_type="user",
        entity_id=user.id,
        detail={"username": username, "role": role, "branch": branch_code},
    )
    return user


def deactivate_user(session: Session, *, username: str, actor: str) -> User:
    if username == actor:
        raise Conflict(message("user.own_account"))
    user = _get(session, username)
    user.active = False
    user.security_stamp += 1  # every token already issued stops working
    session.add(user)
    audit.record(
        session, actor=actor, action="user.deactivate", entity_type="user", entity_id=user.id
    )
    return user


def sign_out_everywhere(session: Session, *, user_id: int) -> None:
    """End every session and token of a user (web sign-out: a copied cookie dies too)."""
    user = session.get(User, user_id)
    if user is None:
        return
    user.security_stamp += 1
    session.add(user)
    audit.record(
        session, actor=user.username, action="user.sign_out", entity_type="user", entity_id=user.id
    )


def move_user(session: Session, *, username: str, branch_code: str, actor: str) -> User:
    user = _get(session, username)
    if user.role != "branch":
        raise InvalidInput(message("user.not_branch_user", username=username))
    branch = _branch_for_role(session, role="branch", branch_code=branch_code)
    assert branch is not None
    old_branch_id = user.branch_id
    user.branch_id = branch.id
    user.security_stamp += 1  # tokens carrying the old branch scope die now
    session.add(user)
    audit.record(
        session,
        actor=actor,
        action="user.move",
        entity_type="user",
        entity_id=user.id,
        detail={"from_branch_id": old_branch_id, "to_branch": branch_code},
    )
    return user


def reset_password(session: Session, *, username: str, password: str, actor: str) -> User:
    """Set a new password; every session and token of the account ends at once."""
    _check_password(password)
    user = _get(session, username)
    user.password_hash = hash_password(password)
    user.security_stamp += 1
    session.add(user)
    audit.record(
        session, actor=actor, action="user.password_reset", entity_type="user", entity_id=user.id
    )
    return user


def _check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidInput(message("user.short_password", length=MIN_PASSWORD_LENGTH))


def _get(session: Session, username: str) -> User:
    user = session.exec(select(User).where(User.username == username)).first()
    if user is None:
        raise NotFound(message("user.unknown", username=username))
    return user


def _branch_for_role(session: Session, *, role: str, branch_code: str | None) -> Branch | None:
    if role != "branch":
        if branch_code:
            raise InvalidInput(message("user.branch_for_non_branch"))
        return None
    if not branch_code:
        raise InvalidInput(message("user.branch_needed"))
    branch = session.exec(select(Branch).where(Branch.code == branch_code)).first()
    if branch is None:
        raise NotFound(message("user.unknown_branch", branch=branch_code))
    return branch

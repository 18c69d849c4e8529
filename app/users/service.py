"""Creating staff accounts, deactivating them and moving them between branches."""

from __future__ import annotations

import re

from sqlmodel import Session, select

from app import audit
from app.auth import hash_password
from app.errors import Conflict, InvalidInput, NotFound
from app.tables import Branch, User
from app.tables.user import ROLES

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
        raise InvalidInput("username must be 3-64 letters, digits or _ . @ -")
    if role not in ROLES:
        raise InvalidInput(f"role must be one of {', '.join(ROLES)}")
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidInput(f"password must have at least {MIN_PASSWORD_LENGTH} characters")
    branch = _branch_for_role(session, role=role, branch_code=branch_code)
    if session.exec(select(User).where(User.username == username)).first() is not None:
        raise Conflict(f"user '{username}' already exists")
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
        raise InvalidInput(f"user '{username}' is not a branch user")
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


def _get(session: Session, username: str) -> User:
    user = session.exec(select(User).where(User.username == username)).first()
    if user is None:
        raise NotFound(f"no user '{username}'")
    return user


def _branch_for_role(session: Session, *, role: str, branch_code: str | None) -> Branch | None:
    if role != "branch":
        if branch_code:
            raise InvalidInput("only branch users belong to a branch")
        return None
    if not branch_code:
        raise InvalidInput("a branch user needs --branch CODE")
    branch = session.exec(select(Branch).where(Branch.code == branch_code)).first()
    if branch is None:
        raise NotFound(f"no branch '{branch_code}'")
    return branch

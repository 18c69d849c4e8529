"""The staff accounts page: every user with role, branch and state (HQ manages, auditors read)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, col, select

from app.tables import Branch, User


@dataclass(frozen=True, slots=True)
class UserRow:
    username: str
    role: str
    branch_code: str | None
    active: bool
    created_at: datetime


def user_rows(session: Session) -> list[UserRow]:
    query = (
        select(User, Branch.code)
        .join(Branch, col(Branch.id) == col(User.branch_id), isouter=True)
        .order_by(col(User.active).desc(), col(User.role), col(User.username))
    )
    return [UserRow(u.username, u.role, code, u.active, u.created_at)
            for u, code in session.exec(query)]  # fmt: skip


def branch_codes(session: Session) -> list[tuple[str, str]]:
    query = select(Branch.code, Branch.name).where(col(Branch.active)).order_by(col(Branch.code))
    return [(code, name) for code, name in session.exec(query)]

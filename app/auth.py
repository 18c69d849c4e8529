"""Passwords (Argon2), bearer tokens (signed JWT) and the current-user dependency."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Annotated, Any

import jwt
import sqlalchemy as sa
from fastapi import Depends, Request
from fastapi.security import OAuth2PasswordBearer
from pwdlib import PasswordHash
from pwdlib.hashers.argon2 import Argon2Hasher
from sqlmodel import Session, col, select

from app.config import Settings
from app.deps import SessionDep, SettingsDep
from app.errors import Forbidden, Unauthorized
from app.tables import Branch, User
from app.tables.base import utcnow
from coded_messages import message

# Argon2id at OWASP's recommended minimum (19 MiB, 2 passes, 1 lane): ~20 ms of one core here,
# where the library default (64 MiB, 3 passes, 4 lanes) took ~150 ms of every core and let a
# burst of sign-ins starve all other requests (bench/burst.py). Hashes made with other
# parameters still verify and are re-hashed with these at the next successful sign-in.
_hasher = PasswordHash((Argon2Hasher(time_cost=2, memory_cost=19_456, parallelism=1),))
# Verified when a username is unknown, so that a miss costs as much time as a wrong password.
_DUMMY_HASH = _hasher.hash("timing-equaliser")
_ALGORITHM = "HS256"

oauth2_scheme = OAuth2PasswordBearer(tokenUrl="/api/v1/auth/token", auto_error=False)


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password: str, password_hash: str) -> bool:
    return _hasher.verify(password, password_hash)


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is calling, as every service sees it."""

    user_id: int
    username: str
    role: str
    branch_id: int | None
    branch_code: str | None

    @property
    def is_branch(self) -> bool:
        return self.role == "branch"


def authenticate(
    session: Session, *, username: str, password: str
) -> tuple[User | None, str | None]:
    """The user (None for a wrong password or inactive account) and, when the stored hash used
    other parameters, the password re-hashed for the caller to store."""
    user = session.exec(select(User).where(User.username == username)).first()
    if user is None:
        verify_password(password, _DUMMY_HASH)
        return None, None
    valid, rehashed = _hasher.verify_and_update(password, user.password_hash)
    if not valid or not user.active:
        return None, None
    return user, rehashed


def issue_token(user: User, *, settings: Settings) -> str:
    now = utcnow()
    claims = {
        "sub": str(user.id),
        "stamp": user.security_stamp,
        "iat": int(now.timestamp()),
        "exp": int((now + timedelta(minutes=settings.access_token_minutes)).timestamp()),
    }
    return jwt.encode(claims, settings.secret_key, algorithm=_ALGORITHM)


def principal_from_token(session: Session, *, token: str, settings: Settings) -> Principal:
    """Decode and re-check against the database, so deactivation or a branch move bites at once."""
    user_id, stamp = token_claims(token, settings=settings)
    return caller(session, user_id=user_id, stamp=stamp)


def token_claims(token: str, *, settings: Settings) -> tuple[int, int]:
    """The user id and security stamp of a well-signed, unexpired token (Unauthorized else):
    no I/O, so it runs wherever the request is."""
    try:
        # Expiry is checked against the product clock (app.clock), not PyJWT's own time.time().
        claims = jwt.decode(
            token,
            settings.secret_key,
            algorithms=[_ALGORITHM],
            options={"verify_exp": False, "require": ["exp", "sub", "stamp"]},
        )
        user_id = int(claims["sub"])
        stamp = int(claims["stamp"])
        expired = int(claims["exp"]) <= utcnow().timestamp()
    except (jwt.PyJWTError, KeyError, ValueError, TypeError) as exc:
        raise Unauthorized("invalid or expired token") from exc
    if expired:
        raise Unauthorized("invalid or expired token")
    return user_id, stamp


def caller(session: Session, *, user_id: int, stamp: int) -> Principal:
    """The token's user, if still active with the same stamp (Unauthorized else)."""
    # One query for the user and its branch code: this runs on every API request, so it reads
    # the columns a Principal needs as a plain row on the session's connection, a statement
    # built once (an ORM User, then the ORM's execution, cost 5-7% of a branch list's CPU under
    # load: bench/RESULTS.md, issue 18.2).
    row = session.connection().execute(_CALLER, {"user_id": user_id}).first()
    if row is None or not row.active or row.security_stamp != stamp:
        raise Unauthorized("invalid or expired token")
    return Principal(user_id=user_id, username=row.username, role=row.role,
                     branch_id=row.branch_id, branch_code=row.branch_code)  # fmt: skip


_CALLER: sa.Select[*tuple[Any, ...]] = (
    sa.select(
        col(User.username),
        col(User.role),
        col(User.branch_id),
        col(User.active),
        col(User.security_stamp),
        col(Branch.code).label("branch_code"),
    )
    .join(Branch, col(User.branch_id) == col(Branch.id), isouter=True)
    .where(col(User.id) == sa.bindparam("user_id"))
)


def principal_for_user(session: Session, user: User) -> Principal:
    """The caller as services see it, read fresh from the user row and its branch."""
    branch = session.get(Branch, user.branch_id) if user.branch_id is not None else None
    return _principal(user, branch.code if branch else None)


def _principal(user: User, branch_code: str | None) -> Principal:
    assert user.id is not None
    return Principal(
        user_id=user.id,
        username=user.username,
        role=user.role,
        branch_id=user.branch_id,
        branch_code=branch_code,
    )


def current_principal(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    token: Annotated[str | None, Depends(oauth2_scheme)],
) -> Principal:
    if not token:
        raise Unauthorized("not authenticated")
    principal = principal_from_token(session, token=token, settings=settings)
    request.state.principal = principal
    return principal


CurrentPrincipal = Annotated[Principal, Depends(current_principal)]


@dataclass(frozen=True, slots=True)
class PendingCaller:
    """A request whose token is well signed and unexpired, its database check still to do:
    for an endpoint that does that check in the worker thread of its own work, rather than a
    thread of its own (each hop wakes a thread: issue 18.2, bench/RESULTS.md)."""

    request: Request
    user_id: int
    stamp: int
    roles: tuple[str, ...]

    def principal(self, session: Session) -> Principal:
        """The checks `require_roles` makes: still active, same stamp, one of the roles."""
        found = caller(session, user_id=self.user_id, stamp=self.stamp)
        self.request.state.principal = found
        if found.role not in self.roles:
            raise Forbidden(message("access.role"))
        return found


def require_roles_later(*roles: str) -> object:
    """`require_roles`, its database check left to the endpoint (`PendingCaller.principal`),
    which must make it before anything else."""

    # async: decoding a token is no I/O, so it runs inline.
    async def _pending(
        request: Request,
        settings: SettingsDep,
        token: Annotated[str | None, Depends(oauth2_scheme)],
    ) -> PendingCaller:
        if not token:
            raise Unauthorized("not authenticated")
        user_id, stamp = token_claims(token, settings=settings)
        return PendingCaller(request, user_id, stamp, roles)

    return Depends(_pending)


def require_roles(*roles: str) -> object:
    """A dependency that admits only the given roles (deny by default everywhere else)."""

    # async: a pure check, so FastAPI runs it inline instead of sending it to the threadpool.
    async def _check(principal: CurrentPrincipal) -> Principal:
        if principal.role not in roles:
            raise Forbidden(message("access.role"))
        return principal

    return Depends(_check)

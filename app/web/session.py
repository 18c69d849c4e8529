"""The browser session: a signed, HttpOnly cookie that is re-checked against the database.

The cookie carries the user id, the user's security stamp and a random CSRF token, signed and
timestamped with the app secret (itsdangerous). Nothing in it is trusted without the database:
a deactivated user, a moved branch user or a changed password (security stamp bumped) is logged
out at the next click, the rule the API tokens follow too.

CSRF: every POST form of a signed-in user carries the session's token (bound to the session);
the login form, which has no session yet, uses a double-submit cookie.
"""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, Request, Response
from itsdangerous import BadSignature, TimestampSigner, URLSafeTimedSerializer
from sqlmodel import Session

from app.auth import Principal, principal_for_user
from app.config import Settings
from app.deps import SessionDep, SettingsDep
from app.errors import Forbidden, Unauthorized
from app.tables import User
from app.tables.base import utcnow
from coded_messages import message

SESSION_COOKIE = "o2o_session"
LOGIN_CSRF_COOKIE = "o2o_login_csrf"
CSRF_FIELD = "csrf_token"
SESSION_MAX_AGE_SECONDS = 8 * 3600  # one working day
_SALT = "o2o.web.session.v1"


@dataclass(frozen=True, slots=True)
class WebSession:
    principal: Principal
    csrf_token: str


class _ClockSigner(TimestampSigner):
    """Stamps and ages cookies by the product clock (app.clock), as tokens are."""

    def get_timestamp(self) -> int:
        return int(utcnow().timestamp())


def _serializer(settings: Settings) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(settings.secret_key, salt=_SALT, signer=_ClockSigner)


def new_session_cookie(user: User, *, settings: Settings) -> str:
    """A fresh cookie value (with a fresh CSRF token) for a user who just signed in."""
    payload = {"uid": user.id, "stamp": user.security_stamp, "csrf": secrets.token_urlsafe(32)}
    return _serializer(settings).dumps(payload)


def read_session(session: Session, *, cookie: str, settings: Settings) -> WebSession:
    try:
        data: Any = _serializer(settings).loads(cookie, max_age=SESSION_MAX_AGE_SECONDS)
        user_id, stamp, csrf = int(data["uid"]), int(data["stamp"]), str(data["csrf"])
    except (BadSignature, KeyError, TypeError, ValueError) as exc:
        raise Unauthorized("session invalid or expired") from exc
    user = session.get(User, user_id)
    if user is None or not user.active or user.security_stamp != stamp:
        raise Unauthorized("session invalid or expired")
    return WebSession(principal=principal_for_user(session, user), csrf_token=csrf)


def set_cookie(request: Request, response: Response, name: str, value: str) -> None:
    response.set_cookie(
        name,
        value,
        max_age=SESSION_MAX_AGE_SECONDS,
        httponly=True,
        samesite="lax",
        secure=request.url.scheme == "https",
        path="/",
    )


def tokens_match(given: object, expected: str | None) -> bool:
    if not isinstance(given, str) or not given or not expected:
        return False
    return hmac.compare_digest(given.encode(), expected.encode())


def current_web_session(request: Request, session: SessionDep, settings: SettingsDep) -> WebSession:
    cookie = request.cookies.get(SESSION_COOKIE)
    if not cookie:
        raise Unauthorized("not signed in")
    web = read_session(session, cookie=cookie, settings=settings)
    # Templates read these for the navigation, the user menu and every form's hidden field.
    request.state.principal = web.principal
    request.state.csrf_token = web.csrf_token
    return web


WebSessionDep = Annotated[WebSession, Depends(current_web_session)]


async def checked_form(request: Request, web: WebSessionDep) -> WebSession:
    """A signed-in POST whose form carries this session's CSRF token; anything else is 403."""
    form = await request.form()
    if not tokens_match(form.get(CSRF_FIELD), web.csrf_token):
        raise Forbidden(message("access.form_token"))
    return web


CheckedForm = Annotated[WebSession, Depends(checked_form)]


def page_roles(*roles: str) -> Any:
    """A dependency admitting only signed-in users of the given roles (deny by default)."""

    def _check(web: WebSessionDep) -> Principal:
        if web.principal.role not in roles:
            raise Forbidden(message("access.page_role"))
        return web.principal

    return Depends(_check)


def form_roles(*roles: str) -> Any:
    """Like `page_roles`, for POST forms: CSRF-checked first, then the role."""

    def _check(web: CheckedForm) -> Principal:
        if web.principal.role not in roles:
            raise Forbidden(message("access.role"))
        return web.principal

    return Depends(_check)

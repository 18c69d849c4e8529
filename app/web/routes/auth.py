"""Sign in and sign out."""

from __future__ import annotations

import secrets
from typing import Annotated

from fastapi import Form, Query, Request
from fastapi.responses import RedirectResponse
from starlette.responses import Response

from app.client_address import client_address
from app.deps import SessionDep, SettingsDep
from app.errors import TooManyRequests
from app.users.login import sign_in
from app.users.service import sign_out_everywhere
from app.web.routes.base import page_router
from app.web.session import (
    LOGIN_CSRF_COOKIE,
    SESSION_COOKIE,
    CheckedForm,
    new_session_cookie,
    set_cookie,
    tokens_match,
)
from app.web.templating import render

router = page_router()
LOGIN_FAILED = "用户名或密码错误，或账号已停用。"
FORM_EXPIRED = "登录页面已过期，请重新输入。"
LOCKED_OUT = "该账号登录失败次数过多，请 15 分钟后再试。"


def safe_next(target: str | None) -> str:
    """Only a path on this site: never '//evil.example' or 'https://...' (open redirect)."""
    if not target or not target.startswith("/") or target.startswith(("//", "/\\")):
        return "/"
    return target


def _login_page(request: Request, *, next_url: str, error: str | None, status: int,
                username: str = "") -> Response:  # fmt: skip
    """The sign-in form; refused, it keeps the username typed (never the password)."""
    token = secrets.token_urlsafe(32)
    context = {"next_url": next_url, "error": error, "login_csrf": token, "username": username,
               "signed_out": request.query_params.get("bye") == "1"}  # fmt: skip
    response = render(request, "login.html", context, status_code=status)
    set_cookie(request, response, LOGIN_CSRF_COOKIE, token)
    return response


@router.get("/login")
def login_form(
    request: Request, next_url: Annotated[str | None, Query(alias="next", max_length=2000)] = None
) -> Response:
    return _login_page(request, next_url=safe_next(next_url), error=None, status=200)


@router.post("/login")
def login(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    username: Annotated[str, Form(max_length=64)] = "",
    password: Annotated[str, Form(max_length=256)] = "",
    csrf_token: Annotated[str, Form(max_length=128)] = "",
    next_url: Annotated[str, Form(alias="next", max_length=2000)] = "/",
) -> Response:
    target = safe_next(next_url)
    if not tokens_match(csrf_token, request.cookies.get(LOGIN_CSRF_COOKIE)):
        return _login_page(request, next_url=target, error=FORM_EXPIRED, status=403,
                           username=username)  # fmt: skip
    try:
        user = sign_in(
            session,
            settings=settings,
            username=username.strip(),
            password=password,
            client=client_address(request, settings),
        )
    except TooManyRequests as locked:
        page = _login_page(request, next_url=target, error=LOCKED_OUT, status=429,
                           username=username)  # fmt: skip
        page.headers["Retry-After"] = str(locked.retry_after_seconds)
        return page
    if user is None:
        return _login_page(request, next_url=target, error=LOGIN_FAILED, status=400,
                           username=username)  # fmt: skip
    response = RedirectResponse(target, status_code=303)
    set_cookie(request, response, SESSION_COOKIE, new_session_cookie(user, settings=settings))
    response.delete_cookie(LOGIN_CSRF_COOKIE, path="/")
    return response


@router.post("/logout")
def logout(web: CheckedForm, session: SessionDep) -> Response:
    sign_out_everywhere(session, user_id=web.principal.user_id)
    response = RedirectResponse("/login?bye=1", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response

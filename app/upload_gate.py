"""Who may send a file, decided from the headers before a byte of the body is read.

A file upload may be hundreds of megabytes; FastAPI resolves the route's dependencies (and so
its authentication) only after the whole multipart body has been parsed and spooled to disk.
`RequestLimits` asks this module first: a multipart body to a route that takes no file is
refused with 415, and one without valid credentials of an allowed role with 401/403, each
before the body is read.
"""

from __future__ import annotations

from collections.abc import MutableMapping
from dataclasses import dataclass
from typing import Any

import anyio
from starlette.requests import cookie_parser

from app.auth import Principal, principal_from_token
from app.config import Settings
from app.db import session_scope
from app.errors import Unauthorized
from app.web.session import SESSION_COOKIE, read_session


@dataclass(frozen=True, slots=True)
class UploadRoute:
    credentials: str  # "bearer" (the API) or "cookie" (the pages)
    roles: frozenset[str]


# Every route that takes a file; a multipart body anywhere else is refused at once.
UPLOAD_ROUTES = {
    ("POST", "/api/v1/ledger/revenue-imports"): UploadRoute("bearer", frozenset({"finance"})),
    ("POST", "/finance/imports"): UploadRoute("cookie", frozenset({"finance"})),
    ("POST", "/finance/policies/upload"): UploadRoute("cookie", frozenset({"finance"})),
    ("POST", "/api/v1/imports/leads"): UploadRoute("bearer", frozenset({"hq"})),
    ("POST", "/api/v1/imports/branches"): UploadRoute("bearer", frozenset({"hq"})),
    ("POST", "/hq/imports/leads"): UploadRoute("cookie", frozenset({"hq"})),
    ("POST", "/hq/imports/branches"): UploadRoute("cookie", frozenset({"hq"})),
}


@dataclass(frozen=True, slots=True)
class Refusal:
    status: int  # 401, 403 or 415
    detail: str


async def refuse_upload(scope: MutableMapping[str, Any]) -> Refusal | None:
    """None when this multipart request may go on; otherwise why not."""
    route = UPLOAD_ROUTES.get((scope["method"], scope["path"]))
    if route is None:
        return Refusal(415, "this endpoint takes no file; multipart bodies are not accepted")
    credential = _credential(scope, route.credentials)
    if not credential:
        return Refusal(401, "not authenticated")
    app = scope["app"]
    check = _principal_from_bearer if route.credentials == "bearer" else _principal_from_cookie
    try:
        principal = await anyio.to_thread.run_sync(
            check, app.state.engine, app.state.settings, credential
        )
    except Unauthorized as exc:
        return Refusal(401, exc.message)
    if principal.role not in route.roles:
        return Refusal(403, "your role may not do this")
    return None


def _credential(scope: MutableMapping[str, Any], kind: str) -> str | None:
    headers = {key.lower(): bytes(value) for key, value in scope.get("headers", [])}
    if kind == "bearer":
        scheme, _, token = headers.get(b"authorization", b"").decode("latin-1").partition(" ")
        return token.strip() if scheme.lower() == "bearer" else None
    return cookie_parser(headers.get(b"cookie", b"").decode("latin-1")).get(SESSION_COOKIE)


def _principal_from_bearer(engine: Any, settings: Settings, token: str) -> Principal:
    with session_scope(engine) as session:
        return principal_from_token(session, token=token, settings=settings)


def _principal_from_cookie(engine: Any, settings: Settings, cookie: str) -> Principal:
    with session_scope(engine) as session:
        return read_session(session, cookie=cookie, settings=settings).principal

"""Request limits: body size, enforced while the body streams in, and rows per import.

Starlette has no overall body limit of its own, and a `Content-Length` check alone misses
chunked uploads. This pure ASGI middleware counts the bytes as the application reads them and
answers 413 as soon as the limit is crossed: the rest of the body is never read, so memory stays
bounded however large the upload. File uploads (multipart forms) get the upload limit, every
other body (JSON, plain forms) the much smaller body limit. Before any multipart body is read,
`refuse_upload` (app.upload_gate) checks from the headers that the route takes a file (else 415)
and that the caller may upload there (else 401/403).

The row limit of imports travels in a context variable that the middleware (for the API and
the pages) and the CLI set from the settings, so every CSV importer enforces it where it reads.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, MutableMapping
from contextvars import ContextVar
from typing import Any
from urllib.parse import quote

Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[MutableMapping[str, Any], Receive, Send], Awaitable[None]]
# Decides from the headers alone whether a multipart body may be read (app.upload_gate).
UploadCheck = Callable[[MutableMapping[str, Any]], Awaitable[Any]]

MULTIPART_OVERHEAD_BYTES = 64 * 1024
# Data rows one import file may have; None (tests calling importers directly) means no limit.
import_row_limit: ContextVar[int | None] = ContextVar("import_row_limit", default=None)


class RequestLimits:
    """Refuse bodies above `max_body_bytes` (`max_upload_bytes` for multipart) with 413, and
    give the request's imports their row limit."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        max_body_bytes: int,
        max_upload_bytes: int,
        max_import_rows: int,
        refuse_upload: UploadCheck | None = None,
    ) -> None:
        self.app = app
        self.refuse_upload = refuse_upload
        self.max_body_bytes = max_body_bytes
        self.max_upload_bytes = max_upload_bytes
        self.max_import_rows = max_import_rows

    async def __call__(self, scope: MutableMapping[str, Any], receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self._limit_for(scope)
        declared = _declared_length(scope)
        web = not str(scope.get("path", "")).startswith("/api/")
        if declared is not None and declared > limit:
            await _send_too_large(send, limit, web=web)
            return
        if self.refuse_upload is not None and _is_multipart(scope):
            # Before any byte of the body: who may upload here is known from the headers.
            refusal = await self.refuse_upload(scope)
            if refusal is not None:
                path = str(scope.get("path", "/"))
                await _send_refusal(send, refusal.status, refusal.detail, web=web, path=path)
                return
        guard = _Guard(receive, send, limit, web=web)
        token = import_row_limit.set(self.max_import_rows)
        try:
            await self.app(scope, guard.receive, guard.send)
        finally:
            import_row_limit.reset(token)

    def _limit_for(self, scope: MutableMapping[str, Any]) -> int:
        if _is_multipart(scope):
            # Room for the part headers, so the route's own exact check of the file's size
            # (with its clearer message) answers for files just over the limit.
            return self.max_upload_bytes + MULTIPART_OVERHEAD_BYTES
        return self.max_body_bytes


class _Guard:
    """Counts received bytes; once over the limit it answers 413 itself and tells the
    application the client went away, so the application stops reading and its own answer
    (a 400 for the interrupted body) is dropped instead of sent."""

    def __init__(self, receive: Receive, send: Send, limit: int, *, web: bool) -> None:
        self._receive = receive
        self._web = web
        self._send = send
        self._limit = limit
        self._received = 0
        self._refused = False
        self._response_started = False

    async def receive(self) -> Message:
        if self._refused:
            return {"type": "http.disconnect"}  # never read past the limit
        message = await self._receive()
        if message["type"] == "http.request":
            self._received += len(message.get("body", b""))
            if self._received > self._limit:
                self._refused = True
                if not self._response_started:
                    await _send_too_large(self._send, self._limit, web=self._web)
                return {"type": "http.disconnect"}
        return message

    async def send(self, message: Message) -> None:
        if self._refused and not self._response_started:
            return  # the 413 is already out; the application's own answer is dropped
        if message["type"] == "http.response.start":
            self._response_started = True
        await self._send(message)


def header(scope: MutableMapping[str, Any], name: bytes) -> bytes | None:
    for key, value in scope.get("headers", []):
        if key.lower() == name:
            return bytes(value)
    return None


def _is_multipart(scope: MutableMapping[str, Any]) -> bool:
    content_type = header(scope, b"content-type") or b""
    return content_type.strip().lower().startswith(b"multipart/")


def _declared_length(scope: MutableMapping[str, Any]) -> int | None:
    raw = header(scope, b"content-length")
    if raw is None or not raw.strip().isdigit():
        return None
    return int(raw)


async def _send_too_large(send: Send, limit: int, *, web: bool) -> None:
    page = f"上传内容超过 {limit} 字节的上限，未做更改。"
    await send_problem(
        send, 413, "payload_too_large", f"request body larger than {limit} bytes", page, web=web
    )


# The error codes and Chinese pages of the refusals `refuse_upload` may give.
_REFUSALS = {
    401: ("not_authenticated", "请先登录后再上传文件。"),
    403: ("forbidden", "您的角色无权上传此文件。"),
    415: ("unsupported_media_type", "此处不接受文件上传。"),
}


async def _send_refusal(
    send: Send, status: int, detail: str, *, web: bool, path: str = "/"
) -> None:
    code, page = _REFUSALS[status]
    if status == 401 and web:  # as any page does for a signed-out visitor: to the sign-in page
        location = f"/login?next={quote(path, safe='/')}".encode()
        await send({"type": "http.response.start", "status": 303,
                    "headers": [(b"location", location), (b"content-length", b"0"),
                                (b"connection", b"close")]})  # fmt: skip
        await send({"type": "http.response.body", "body": b""})
        return
    extra = [(b"www-authenticate", b"Bearer")] if status == 401 else []
    await send_problem(send, status, code, detail, page, web=web, extra_headers=extra)


async def send_problem(
    send: Send,
    status: int,
    code: str,
    detail: str,
    page: str,
    *,
    web: bool,
    extra_headers: list[tuple[bytes, bytes]] | None = None,
) -> None:
    """The API's JSON problem body, or a short Chinese page for the web pages; the body the
    client is still sending is never read, so the connection closes."""
    if web:
        text = f"<!doctype html><meta charset=utf-8><p>{page}</p>"
        body, media = text.encode(), b"text/html; charset=utf-8"
    else:
        body, media = json.dumps({"error": code, "detail": detail}).encode(), b"application/json"
    headers = [
        (b"content-type", media),
        (b"content-length", str(len(body)).encode()),
        (b"connection", b"close"),
        *(extra_headers or []),
    ]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})

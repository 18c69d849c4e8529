"""The pages' security headers on every response (API, /docs, static files, early refusals).

The pages set their own (with `Cache-Control: no-store`); anything else that has none gets the
same Content-Security-Policy (everything from this server, no inline script, not framable),
`nosniff` and the referrer policy.
"""

from __future__ import annotations

from collections.abc import MutableMapping
from typing import Any

from app.limits import ASGIApp, Message, Receive, Send
from app.web.templating import SECURITY_HEADERS

_DEFAULTS = [
    (name.lower().encode(), value.encode())
    for name, value in SECURITY_HEADERS.items()
    if name != "Cache-Control"
]


class SecurityHeaders:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: MutableMapping[str, Any], receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {bytes(name).lower() for name, _ in headers}
                headers += [(name, value) for name, value in _DEFAULTS if name not in present]
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_headers)

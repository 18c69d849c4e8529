"""At most as many requests in progress as the pool has connections.

A request keeps its session's connection between its thread hops (the principal dependency,
then the endpoint), so capping threads alone does not cap connections: in a burst, requests
holding a connection while waiting for a thread would empty the pool. Here a request waits for
a slot before it starts; one that waits too long is answered 503 with Retry-After, holding
nothing: JSON for the API, a short Chinese page for the pages. Pure ASGI, like `RequestIds`.
"""

from __future__ import annotations

import asyncio
from collections.abc import MutableMapping
from typing import Any
from weakref import WeakKeyDictionary

import anyio

from app.limits import ASGIApp, Receive, Send, send_problem

BUSY = "the server is busy; nothing was done, retry"
BUSY_PAGE = "系统繁忙，本次操作未执行，请稍后重试。"


class InFlightLimit:
    def __init__(self, app: ASGIApp, *, limit: int, wait_seconds: float) -> None:
        self.app = app
        self.limit = limit
        self.wait_seconds = wait_seconds
        # One limiter per event loop: a test may drive the same app from several loops. Keyed
        # by the loop itself, not id(): a new loop can reuse a closed one's id and would then
        # wait on a limiter bound to the dead loop (503 after wait_seconds; a flaky test).
        self._limiters: WeakKeyDictionary[asyncio.AbstractEventLoop, anyio.CapacityLimiter] = (
            WeakKeyDictionary()
        )

    async def __call__(self, scope: MutableMapping[str, Any], receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limiter = self._limiter()
        borrower = object()
        acquired = False
        with anyio.move_on_after(self.wait_seconds):
            await limiter.acquire_on_behalf_of(borrower)
            acquired = True
        if not acquired:
            web = not str(scope.get("path", "")).startswith("/api/")
            await send_problem(send, 503, "server_busy", BUSY, BUSY_PAGE, web=web,
                               extra_headers=[(b"retry-after", b"1")])  # fmt: skip
            return
        try:
            await self.app(scope, receive, send)
        finally:
            limiter.release_on_behalf_of(borrower)

    def _limiter(self) -> anyio.CapacityLimiter:
        loop = asyncio.get_running_loop()
        if loop not in self._limiters:
            self._limiters[loop] = anyio.CapacityLimiter(self.limit)
        return self._limiters[loop]

"""A request that waits too long for a slot is answered 503 with Retry-After: JSON for the API,
a Chinese page for the pages (app/in_flight.py), and the request itself never runs."""

from __future__ import annotations

import json
from collections.abc import MutableMapping
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import anyio
import pytest

from app.in_flight import InFlightLimit

pytestmark = pytest.mark.real_clock  # waits on the event loop's clock for the slot


def _limited_app(started: anyio.Event, release: anyio.Event, ran: list[str]) -> InFlightLimit:
    async def slow(scope: MutableMapping[str, Any], receive: Any, send: Any) -> None:
        ran.append(scope["path"])
        started.set()
        await release.wait()
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})

    return InFlightLimit(slow, limit=1, wait_seconds=0.05)


async def _call(app: InFlightLimit, path: str) -> tuple[int, dict[bytes, bytes], bytes]:
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    await app({"type": "http", "path": path, "headers": []}, receive, send)
    return sent[0]["status"], dict(sent[0]["headers"]), sent[1]["body"]


@pytest.mark.parametrize("path", ["/api/v1/leads", "/inbox"])
def test_a_request_over_the_limit_is_refused_in_the_callers_language(path: str) -> None:
    answers: list[tuple[int, dict[bytes, bytes], bytes]] = []
    ran: list[str] = []

    async def scenario() -> None:
        started, release = anyio.Event(), anyio.Event()
        app = _limited_app(started, release, ran)

        async def first() -> None:
            answers.append(await _call(app, "/holder"))

        async with anyio.create_task_group() as tasks:
            tasks.start_soon(first)
            await started.wait()
            answers.append(await _call(app, path))  # waits 0.05 s for the one slot: refused
            release.set()

    # A thread of its own: a browser test earlier in the run may leave this thread's loop
    # running ("Already running asyncio in this thread"), as in tests/security/test_limits.py.
    with ThreadPoolExecutor(max_workers=1) as pool:
        pool.submit(anyio.run, scenario).result()
    refused, held = answers
    assert held[0] == 200
    assert ran == ["/holder"]  # the refused request never reached the application
    status, headers, body = refused
    assert status == 503
    assert headers[b"retry-after"] == b"1"
    if path.startswith("/api/"):
        assert headers[b"content-type"] == b"application/json"
        assert json.loads(body)["error"] == "server_busy"
    else:
        assert headers[b"content-type"].startswith(b"text/html")
        assert "系统繁忙，本次操作未执行，请稍后重试。" in body.decode()

"""A real HTTP receiver for notification webhooks, on 127.0.0.1 and a free port.

It checks every request's signature the way docs/contract.md §10 tells a receiver to, keeps
the bodies it accepted, and can answer 500 to every other request (a gateway that fails half
the time). It serves on a thread with blocking accepts: no timed waits (tests run under a
shifted clock too).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any


@dataclass
class Received:
    secret: str
    fail_every_other: bool = False
    always_fail: bool = False
    requests: int = 0
    bad_signatures: int = 0
    accepted: list[dict[str, Any]] = field(default_factory=list)
    keys: list[str] = field(default_factory=list)  # Idempotency-Key of each accepted body
    lock: threading.Lock = field(default_factory=threading.Lock)

    def verified(self, headers: Any, body: bytes) -> bool:
        """The recipe: HMAC-SHA256 of `<X-O2O-Timestamp>.<raw body>`, compared in constant time."""
        signed = headers.get("X-O2O-Timestamp", "").encode() + b"." + body
        expected = "sha256=" + hmac.new(self.secret.encode(), signed, hashlib.sha256).hexdigest()
        return hmac.compare_digest(expected, headers.get("X-O2O-Signature", ""))

    def answer(self, headers: Any, body: bytes) -> int:
        with self.lock:
            self.requests += 1
            if not self.verified(headers, body):
                self.bad_signatures += 1
                return 401
            if self.always_fail or (self.fail_every_other and self.requests % 2 == 1):
                return 500
            self.accepted.append(json.loads(body))
            self.keys.append(headers["Idempotency-Key"])
            return 204

    def distinct(self) -> set[str]:
        return set(self.keys)


def _handler(received: Received, stopping: threading.Event) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            self.send_response(received.answer(self.headers, body))
            self.send_header("Content-Length", "0")
            self.end_headers()

        def do_GET(self) -> None:
            stopping.set()
            self.send_response(204)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            return

    return Handler


@contextmanager
def webhook_receiver(secret: str, **behaviour: bool) -> Iterator[tuple[str, Received]]:
    """(URL, what it received) while the block runs."""
    received, stopping = Received(secret, **behaviour), threading.Event()
    server = HTTPServer(("127.0.0.1", 0), _handler(received, stopping))

    def serve() -> None:
        while not stopping.is_set():
            server.handle_request()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{server.server_address[1]}/hook"
    try:
        yield url, received
    finally:
        direct = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        direct.open(url.replace("/hook", "/stop")).close()  # served, then the thread stops
        thread.join()
        server.server_close()

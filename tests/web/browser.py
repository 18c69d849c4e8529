"""A real Chromium against a real server: the fixtures behind the browser tests.

Debian's `chromium` is driven by Playwright's Python client (no browser download). Without it the
browser tests skip, unless `O2O_REQUIRE_BROWSER=1` (CI), which turns a missing browser into a
failure. Servers run uvicorn in a thread over a fresh SQLite copy of the migrated template.
"""

from __future__ import annotations

import os
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from sqlmodel import select

from app.config import Settings
from app.db import make_engine, session_scope
from app.jobs.queue import close_queue
from app.main import create_app
from app.tables import Branch
from app.web import install_web
from tests.app.factories import PASSWORD, add_user, load_branches
from tests.conftest import settings_for

CHROMIUM = os.environ.get("O2O_CHROMIUM", "/usr/bin/chromium")
REQUIRE_BROWSER = os.environ.get("O2O_REQUIRE_BROWSER") == "1"
CHROMIUM_ARGS = [
    "--no-sandbox", "--headless", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--no-first-run",
]  # fmt: skip
SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"
USERS = (("hq1", "hq", None), ("fin1", "finance", None), ("aud1", "auditor", None),
         ("sz1", "branch", "SZ-FT"), ("bj1", "branch", "BJ-CY"))  # fmt: skip


def _missing(reason: str) -> None:
    if REQUIRE_BROWSER:
        pytest.fail(f"O2O_REQUIRE_BROWSER=1 but {reason}")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _missing("playwright is not installed")
    if not Path(CHROMIUM).exists():
        _missing(f"no Chromium at {CHROMIUM} (apt-get install chromium fonts-wqy-microhei)")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@dataclass(frozen=True, slots=True)
class LiveServer:
    url: str
    settings: Settings
    branch_ids: dict[str, int]

    @property
    def engine(self) -> Any:
        return make_engine(self.settings)


@contextmanager
def serving(settings: Settings) -> Iterator[str]:
    app = create_app(settings)
    install_web(app, settings)
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the test server did not start")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()
        close_queue(settings)  # the job workers the server started (no lifespan here)
        app.state.engine.dispose()


@pytest.fixture
def live_server(browser: Any, sqlite_template: Path, tmp_path: Path) -> Iterator[LiveServer]:
    """A server on a free port over a fresh database with the standard branches and users."""
    target = tmp_path / "browser.db"
    shutil.copyfile(sqlite_template, target)
    settings = settings_for(f"sqlite:///{target}")
    engine = make_engine(settings)
    load_branches(engine, tmp_path)
    for username, role, branch in USERS:
        add_user(engine, username, role, branch)
    with session_scope(engine) as session:
        ids = {b.code: b.id for b in session.exec(select(Branch)) if b.id is not None}
    engine.dispose()
    with serving(settings) as url:
        yield LiveServer(url=url, settings=settings, branch_ids=ids)


@pytest.fixture
def new_page(browser: Any, live_server: LiveServer) -> Iterator[Any]:
    contexts: list[Any] = []

    def make(width: int = 1366, height: int = 900) -> Any:
        context = browser.new_context(
            viewport={"width": width, "height": height}, locale="zh-CN", base_url=live_server.url
        )
        contexts.append(context)
        return context.new_page()

    yield make
    for context in contexts:
        context.close()


def sign_in(page: Any, username: str, password: str = PASSWORD) -> None:
    page.goto("/login")
    page.fill("#username", username)
    page.fill("#password", password)
    page.click("button[type=submit]")
    page.wait_for_load_state()


def screenshot(page: Any, name: str) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path

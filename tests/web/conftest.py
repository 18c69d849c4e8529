"""A web app (API + pages) over a fresh database with the standard branches and users."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from app.config import Settings
from app.main import create_app
from app.web import install_web
from tests.app.conftest import branch_ids, engine, funnel_world
from tests.web.browser import browser, live_server, new_page

__all__ = ["branch_ids", "browser", "engine", "funnel_world", "live_server", "new_page"]


@pytest.fixture
def web(settings: Settings) -> Iterator[TestClient]:
    # No worker threads: a page test runs a queued job itself (tests.web.helpers.run_job_here).
    settings = settings.model_copy(update={"job_workers_in_process": 0})
    app = create_app(settings)
    install_web(app, settings)
    with TestClient(app) as client:
        yield client
    app.state.engine.dispose()

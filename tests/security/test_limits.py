"""Limits: every resource a request can ask for is bounded, and crossing a bound is a 4xx.

Upload bytes (API and page), JSON body bytes, page size, rows per import (API and CLI), rows
per export download, solver time and sign-in attempts. The app runs with small limits so each
can be crossed cheaply; a refused request writes nothing. The oversize upload is also driven
straight through ASGI with a body that is generated as it is read, to show the refusal comes
before the body is read and memory stays flat.
"""

from __future__ import annotations

import asyncio
import contextvars
import tracemalloc
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import select
from typer.testing import CliRunner

from app.cli import cli
from app.config import Settings, get_settings
from app.db import session_scope
from app.journal import service as ledger_service
from app.limits import MULTIPART_OVERHEAD_BYTES
from app.main import create_app
from app.rounds import service as rounds_service
from app.tables import Branch
from tests.app.factories import PASSWORD, add_user, load_branches, write
from tests.web.finance_data import HEADER, OCTOBER, count, own_leads
from tests.web.helpers import sign_in

LIMITS = {
    "max_upload_bytes": 4096,
    "max_body_bytes": 2048,
    "max_import_rows": 3,
    "max_export_rows": 2,
    "max_page_size": 50,
    "login_max_failures": 3,
    "round_time_limit_seconds": 2.0,
}
CHUNK = 64 * 1024


@dataclass
class Limited:
    app: FastAPI
    client: TestClient
    engine: Engine
    settings: Settings
    tmp_path: Path

    def token(self, username: str) -> dict[str, str]:
        response = self.client.post(
            "/api/v1/auth/token", data={"username": username, "password": PASSWORD}
        )
        assert response.status_code == 200, response.text
        return {"Authorization": f"Bearer {response.json()['access_token']}"}


@pytest.fixture
def limited(settings: Settings, tmp_path: Path) -> Iterator[Limited]:
    small = settings.model_copy(update=LIMITS)
    app = create_app(small)
    engine = app.state.engine
    load_branches(engine, tmp_path)
    for username, role in (("hq1", "hq"), ("fin1", "finance"), ("aud1", "auditor")):
        add_user(engine, username, role)
    with session_scope(engine) as session:
        branch_ids = {b.code: b.id for b in session.exec(select(Branch)) if b.id is not None}
    own_leads(engine, branch_ids)
    with TestClient(app, follow_redirects=False) as client:
        yield Limited(app, client, engine, small, tmp_path)
    engine.dispose()


def revenue_file(rows: int) -> bytes:
    lines = [f"L{i},A1,brokerage_commission,1.00,2026-10-05T10:00:00,app" for i in range(rows)]
    return (HEADER + "\n".join(lines) + "\n").encode()


def padded_revenue(size: int) -> bytes:
    """A valid-looking revenue file of about `size` bytes (the padding is an ignored column)."""
    row = "E1,A1,brokerage_commission,1.00,2026-10-05T10:00:00,app," + "x" * 200 + "\n"
    head = HEADER.rstrip("\n") + ",note\n"
    return (head + row * (size // len(row) + 1)).encode()


# --- upload and body size --------------------------------------------------------------------


# A file a little over the limit meets the route's exact check of the file's size; a much
# larger one the middleware's check of the whole body (file plus room for the part headers).
@pytest.mark.parametrize(
    ("size", "limit"),
    [(8 * 1024, 4096), (256 * 1024, 4096 + MULTIPART_OVERHEAD_BYTES)],
    ids=["route-check", "middleware"],
)
def test_an_oversized_upload_gets_413_and_writes_nothing(
    limited: Limited, size: int, limit: int
) -> None:
    files = {"file": ("big.csv", padded_revenue(size), "text/csv")}
    response = limited.client.post(
        "/api/v1/ledger/revenue-imports", files=files, headers=limited.token("fin1")
    )
    assert response.status_code == 413, response.text
    assert response.json()["error"] == "payload_too_large"
    assert f"larger than {limit} bytes" in response.json()["detail"]
    assert count(limited.engine, "revenue_event") == 0


def test_an_oversized_page_upload_gets_413_in_chinese(limited: Limited) -> None:
    token = sign_in(limited.client, "fin1")
    files = {"file": ("big.csv", padded_revenue(256 * 1024), "text/csv")}
    response = limited.client.post("/finance/imports", data={"csrf_token": token}, files=files)
    assert response.status_code == 413
    assert "上限" in response.text
    assert count(limited.engine, "revenue_event") == 0


def test_an_oversized_json_body_gets_413_and_starts_no_round(limited: Limited) -> None:
    body = '{"balance_weight": 0, "pad": "' + "x" * 4000 + '"}'
    response = limited.client.post(
        "/api/v1/rounds",
        content=body,
        headers={**limited.token("hq1"), "Content-Type": "application/json"},
    )
    assert response.status_code == 413
    assert count(limited.engine, "allocation_round") == 0


class EndlessUpload:
    """An ASGI `receive` producing a multipart body of `total` bytes chunk by chunk, never
    holding more than one chunk: what a client streaming a huge file looks like."""

    def __init__(self, total: int) -> None:
        self.total = total
        self.sent = 0
        self.chunks_read = 0

    async def receive(self) -> dict[str, Any]:
        self.chunks_read += 1
        if self.sent == 0:
            block = (
                b'--B\r\nContent-Disposition: form-data; name="file"; filename="x.csv"\r\n'
                b"Content-Type: text/csv\r\n\r\n"
            ).ljust(CHUNK, b"x")
        else:
            block = b"x" * CHUNK
        self.sent += len(block)
        return {"type": "http.request", "body": block, "more_body": self.sent < self.total}


def call_asgi(
    app: FastAPI,
    headers: list[tuple[bytes, bytes]],
    upload: EndlessUpload,
    path: str = "/api/v1/ledger/revenue-imports",
) -> int:
    scope = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST",
        "scheme": "http", "path": path,
        "raw_path": path.encode(), "root_path": "", "query_string": b"",
        "headers": [(b"host", b"testserver"), *headers], "client": ("127.0.0.1", 1),
        "server": ("testserver", 80),
    }  # fmt: skip
    statuses: list[int] = []

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            statuses.append(message["status"])

    # A thread of its own: a browser test earlier in the run may leave this thread's loop running.
    with ThreadPoolExecutor(max_workers=1) as pool:
        pool.submit(asyncio.run, app(scope, upload.receive, send)).result()  # type: ignore[arg-type]
    assert len(statuses) == 1, "exactly one response"
    return statuses[0]


def test_a_streamed_upload_is_refused_once_the_limit_is_crossed_with_flat_memory(
    limited: Limited,
) -> None:
    auth = limited.token("fin1")["Authorization"].encode()
    headers = [(b"content-type", b"multipart/form-data; boundary=B"), (b"authorization", auth)]
    upload = EndlessUpload(total=256 * 1024 * 1024)  # 256 MiB, never declared up front
    tracemalloc.start()
    try:
        status = call_asgi(limited.app, headers, upload)
        _current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    limit = LIMITS["max_upload_bytes"] + MULTIPART_OVERHEAD_BYTES
    read = upload.chunks_read * CHUNK
    print(f"\nmetric=upload_bytes_read value={read} threshold={limit + CHUNK}")
    print(f"metric=upload_peak_traced_mib value={peak / 2**20:.1f} threshold=16")
    assert status == 413
    assert read <= limit + CHUNK  # stopped at the first chunk past the limit
    assert peak < 16 * 2**20  # of a 256 MiB body
    assert count(limited.engine, "revenue_event") == 0


def test_a_declared_oversized_body_is_refused_before_reading_it(limited: Limited) -> None:
    headers = [
        (b"content-type", b"multipart/form-data; boundary=B"),
        (b"content-length", str(10**12).encode()),
    ]
    upload = EndlessUpload(total=10**12)
    assert call_asgi(limited.app, headers, upload) == 413
    assert upload.chunks_read == 0


MULTIPART = (b"content-type", b"multipart/form-data; boundary=B")


def test_an_upload_without_credentials_gets_401_before_its_body_is_read(limited: Limited) -> None:
    upload = EndlessUpload(total=200 * 1024 * 1024)
    assert call_asgi(limited.app, [MULTIPART], upload) == 401
    assert upload.chunks_read == 0


def test_an_upload_with_a_forged_token_gets_401_before_its_body_is_read(limited: Limited) -> None:
    upload = EndlessUpload(total=200 * 1024 * 1024)
    forged = (b"authorization", b"Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.forged")
    assert call_asgi(limited.app, [MULTIPART, forged], upload) == 401
    assert upload.chunks_read == 0


def test_an_upload_by_a_role_that_may_not_import_gets_403_before_its_body_is_read(
    limited: Limited,
) -> None:
    upload = EndlessUpload(total=200 * 1024 * 1024)
    auditor = (b"authorization", limited.token("aud1")["Authorization"].encode())
    assert call_asgi(limited.app, [MULTIPART, auditor], upload) == 403
    assert upload.chunks_read == 0


def test_a_page_upload_without_a_finance_session_is_refused_before_its_body_is_read(
    limited: Limited,
) -> None:
    upload = EndlessUpload(total=200 * 1024 * 1024)
    assert call_asgi(limited.app, [MULTIPART], upload, path="/finance/imports") == 303  # sign in
    assert upload.chunks_read == 0
    sign_in(limited.client, "aud1")
    cookie = "; ".join(f"{k}={v}" for k, v in limited.client.cookies.items())
    headers = [MULTIPART, (b"cookie", cookie.encode())]
    assert call_asgi(limited.app, headers, upload, path="/finance/imports") == 403
    assert upload.chunks_read == 0


@pytest.mark.parametrize("path", ["/api/v1/auth/token", "/api/v1/rounds", "/login"])
def test_a_multipart_body_to_a_route_that_takes_no_file_gets_415_unread(
    limited: Limited, path: str
) -> None:
    upload = EndlessUpload(total=200 * 1024 * 1024)
    assert call_asgi(limited.app, [MULTIPART], upload, path=path) == 415
    assert upload.chunks_read == 0


# --- page size, rows per import, export size ---------------------------------------------------


def test_a_page_larger_than_the_maximum_gets_422(limited: Limited) -> None:
    headers = limited.token("hq1")
    assert limited.client.get("/api/v1/leads?limit=50", headers=headers).status_code == 200
    response = limited.client.get("/api/v1/leads?limit=51", headers=headers)
    assert response.status_code == 422
    assert "50" in response.text


def test_an_import_with_too_many_rows_names_the_limit_and_the_line(limited: Limited) -> None:
    files = {"file": ("four.csv", revenue_file(4), "text/csv")}
    response = limited.client.post(
        "/api/v1/ledger/revenue-imports", files=files, headers=limited.token("fin1")
    )
    assert response.status_code == 422, response.text
    [error] = response.json()["errors"]
    assert error["line"] == 5  # the header is line 1: the fourth data row crossed the limit
    assert "more than 3 data rows (O2O_MAX_IMPORT_ROWS)" in error["reason"]
    assert count(limited.engine, "revenue_event") == 0
    files = {"file": ("three.csv", revenue_file(3), "text/csv")}
    response = limited.client.post(
        "/api/v1/ledger/revenue-imports", files=files, headers=limited.token("fin1")
    )
    assert response.status_code == 200, response.text  # exactly at the limit is fine


def test_the_cli_import_refuses_too_many_rows_and_writes_nothing(
    limited: Limited, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("O2O_DATABASE_URL", limited.settings.database_url)
    monkeypatch.setenv("O2O_SECRET_KEY", limited.settings.secret_key)
    monkeypatch.setenv("O2O_MAX_IMPORT_ROWS", "2")
    get_settings.cache_clear()
    leads = "external_id,lat,lon\nN1,22.5,114.0\nN2,22.5,114.0\nN3,22.5,114.0\n"
    path = write(limited.tmp_path, "leads.csv", leads)
    try:
        # In a context of its own: the limit the command sets must not outlive it here.
        args = ["import", "leads", str(path), "--channel", "app"]
        result = contextvars.copy_context().run(CliRunner().invoke, cli, args)
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 2, result.output
    assert "leads.csv:4: column '*': more than 2 data rows (O2O_MAX_IMPORT_ROWS)" in result.output
    assert count(limited.engine, "lead") == 3  # the three owned leads of the fixture, no more


def test_an_export_over_the_row_limit_gets_422_naming_the_limit(limited: Limited) -> None:
    with session_scope(limited.engine) as session:
        ledger_service.import_revenue(
            session, path=write(limited.tmp_path, "october.csv", OCTOBER), actor="test"
        )
    api = limited.client.get("/api/v1/ledger/export?period=2026-10", headers=limited.token("aud1"))
    assert api.status_code == 422
    assert api.json()["error"] == "export_too_large"
    assert "O2O_MAX_EXPORT_ROWS" in api.json()["detail"]
    sign_in(limited.client, "fin1")
    page = limited.client.get("/finance/export?period=2026-10")
    assert page.status_code == 422
    assert "O2O_MAX_EXPORT_ROWS" in page.text
    assert "超过下载上限" in page.text  # said in Chinese on the page
    empty = limited.client.get(
        "/api/v1/ledger/export?period=2026-09", headers=limited.token("aud1")
    )
    assert empty.status_code == 200  # a period within the limit downloads as before


# --- solver time and sign-in attempts ----------------------------------------------------------


def test_the_round_solver_time_is_capped_by_the_setting(
    limited: Limited, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[float] = []
    real_solve = rounds_service.solve_unreported

    def recording_solve(instance: Any, *, time_limit_s: float, **kwargs: Any) -> Any:
        seen.append(time_limit_s)
        return real_solve(instance, time_limit_s=time_limit_s, **kwargs)

    monkeypatch.setattr(rounds_service, "solve_unreported", recording_solve)
    params = rounds_service.RoundParams(time_limit_s=600.0)
    rounds_service.run_round(
        limited.engine, settings=limited.settings, actor="hq1", params=params, commit=False
    )
    response = limited.client.post("/api/v1/rounds", json={}, headers=limited.token("hq1"))
    assert response.status_code == 201, response.text
    assert seen == [LIMITS["round_time_limit_seconds"]] * 2


def test_repeated_failed_sign_ins_lock_the_account_with_429(limited: Limited) -> None:
    def attempt(username: str, password: str) -> int:
        form = {"username": username, "password": password}
        return limited.client.post("/api/v1/auth/token", data=form).status_code

    statuses = [attempt("fin1", "wrong password") for _ in range(6)]
    refused = statuses.count(429)
    print(f"\nmetric=login_attempts_refused value={refused} threshold>={6 - 3}")
    assert statuses[:3] == [401, 401, 401]
    assert statuses[3:] == [429, 429, 429]
    assert attempt("fin1", PASSWORD) == 429  # locked, even with the right password
    assert attempt("aud1", PASSWORD) == 200  # other accounts are unaffected


def test_an_oversized_lead_or_branch_upload_gets_413_on_the_api_and_the_page(
    limited: Limited,
) -> None:
    big = ("external_id,note\n" + ("Z1," + "x" * 200 + "\n") * 40).encode("gbk")  # ~8 kB
    for what in ("leads", "branches"):
        files = {"file": ("big.csv", big, "text/csv")}
        response = limited.client.post(
            f"/api/v1/imports/{what}", files=files, headers=limited.token("hq1")
        )
        assert response.status_code == 413, response.text
        assert response.json()["error"] == "payload_too_large"
    token = sign_in(limited.client, "hq1")
    files = {"file": ("big.csv", big, "text/csv")}
    page = limited.client.post("/hq/imports/leads", data={"csrf_token": token}, files=files)
    assert page.status_code == 413
    assert "上限" in page.text
    assert count(limited.engine, "lead") == 3  # the fixture's own leads, no more

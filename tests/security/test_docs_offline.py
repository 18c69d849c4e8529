"""/docs works on an isolated network, every response carries the CSP, and the OpenAPI schema
lists the error answers with their body (issue 13, finding 10)."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient

from app.config import Settings
from app.main import create_app


@pytest.fixture
def client(settings: Settings) -> TestClient:
    return TestClient(create_app(settings), follow_redirects=False)


def test_docs_load_every_script_and_style_from_this_server(client: TestClient) -> None:
    page = client.get("/docs")
    assert page.status_code == 200
    assert "<script>" not in page.text  # no inline script: the CSP would refuse it
    urls = re.findall(r'(?:src|href)="([^"]+)"', page.text)
    assert urls
    assert all(url.startswith("/") for url in urls), urls  # no CDN
    for url in urls:
        asset = client.get(url)
        assert asset.status_code == 200, url
        assert len(asset.content) > 0


def test_redoc_is_off_and_the_schema_stays(client: TestClient) -> None:
    assert client.get("/redoc").status_code == 404
    assert client.get("/openapi.json").status_code == 200


@pytest.mark.parametrize("path", ["/docs", "/openapi.json", "/healthz", "/api/v1/leads", "/login"])
def test_every_response_carries_the_content_security_policy(client: TestClient, path: str) -> None:
    policy = client.get(path).headers["content-security-policy"]
    assert "default-src 'self'" in policy
    assert "frame-ancestors 'none'" in policy


def test_an_early_refusal_carries_the_policy_too(client: TestClient) -> None:
    response = client.post(
        "/api/v1/auth/token", files={"file": ("x.csv", b"x")}, data={"username": "u"}
    )
    assert response.status_code == 415
    assert "default-src 'self'" in response.headers["content-security-policy"]


def test_every_api_operation_documents_its_errors_with_the_error_body(client: TestClient) -> None:
    schema = client.get("/openapi.json").json()
    assert set(schema["components"]["schemas"]["ErrorBody"]["required"]) == {"error", "detail"}
    operations = [op for path in schema["paths"].values() for op in path.values()]
    assert operations
    for operation in operations:
        for status in ("401", "403", "404", "409", "422", "429", "503"):
            content = operation["responses"][status]["content"]["application/json"]
            assert content["schema"] == {"$ref": "#/components/schemas/ErrorBody"}

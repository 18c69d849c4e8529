"""Every style and script comes from this server; pages forbid anything else."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from app.web import install_web
from tests.web.helpers import sign_in


def test_pages_reference_only_this_servers_assets(
    web: TestClient, branch_ids: dict[str, int]
) -> None:
    sign_in(web, "hq1")
    for path in ("/login", "/", "/hq/branches", "/hq/pool", "/hq/rounds"):
        html = web.get(path).text
        assert not re.search(r"""(src|href)=["']?(https?:)?//""", html), path


def test_the_stylesheet_is_served_with_a_cjk_font_stack(web: TestClient) -> None:
    css = web.get("/static/app.css")
    assert css.status_code == 200
    assert '"WenQuanYi Micro Hei"' in css.text


def test_pages_carry_a_same_origin_content_security_policy(web: TestClient) -> None:
    headers = web.get("/login").headers
    assert "default-src 'self'" in headers["content-security-policy"]
    assert "frame-ancestors 'none'" in headers["content-security-policy"]
    assert headers["cache-control"] == "no-store"


def test_installing_the_pages_twice_changes_nothing(web: TestClient) -> None:
    app = web.app
    before = len(app.routes)  # type: ignore[attr-defined]
    install_web(app, app.state.settings)  # type: ignore[attr-defined, arg-type]
    assert len(app.routes) == before  # type: ignore[attr-defined]

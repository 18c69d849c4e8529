"""Signing in and out of the pages: cookies, CSRF, failures and stale sessions."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine

from app.db import session_scope
from app.users.service import deactivate_user
from app.web.session import LOGIN_CSRF_COOKIE, SESSION_COOKIE
from tests.web.helpers import csrf_of, sign_in


def test_an_anonymous_visitor_is_sent_to_the_login_page_and_back(
    web: TestClient, branch_ids: dict[str, int]
) -> None:
    response = web.get("/inbox?sort=newest", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/login?next=/inbox%3Fsort%3Dnewest"
    page = web.get(response.headers["location"])
    assert 'name="next" value="/inbox?sort=newest"' in page.text


def test_signing_in_sets_an_httponly_samesite_lax_session_cookie(
    web: TestClient, branch_ids: dict[str, int]
) -> None:
    page = web.get("/login")
    response = web.post(
        "/login",
        data={"username": "sz1", "password": "correct horse battery",
              "csrf_token": csrf_of(page.text), "next": "/inbox"},
        follow_redirects=False,
    )  # fmt: skip
    assert response.status_code == 303
    assert response.headers["location"] == "/inbox"
    cookie = next(
        c for c in response.headers.get_list("set-cookie") if c.startswith(SESSION_COOKIE)
    )
    assert "HttpOnly" in cookie
    assert "SameSite=lax" in cookie or "SameSite=Lax" in cookie
    assert web.get("/inbox").status_code == 200


def test_a_wrong_password_shows_the_login_failure_message(
    web: TestClient, branch_ids: dict[str, int]
) -> None:
    page = web.get("/login")
    response = web.post(
        "/login",
        data={"username": "sz1", "password": "wrong", "csrf_token": csrf_of(page.text)},
        follow_redirects=False,
    )
    assert response.status_code == 400
    assert "用户名或密码错误" in response.text
    assert SESSION_COOKIE not in web.cookies


def test_a_login_without_its_form_token_is_refused(
    web: TestClient, branch_ids: dict[str, int]
) -> None:
    web.get("/login")
    response = web.post(
        "/login",
        data={"username": "sz1", "password": "correct horse battery", "csrf_token": "forged"},
        follow_redirects=False,
    )
    assert response.status_code == 403
    assert SESSION_COOKIE not in web.cookies


def test_the_login_form_never_redirects_off_site(
    web: TestClient, branch_ids: dict[str, int]
) -> None:
    page = web.get("/login")
    response = web.post(
        "/login",
        data={"username": "sz1", "password": "correct horse battery",
              "csrf_token": web.cookies[LOGIN_CSRF_COOKIE], "next": "//evil.example/x"},
        follow_redirects=False,
    )  # fmt: skip
    assert page.status_code == 200
    assert response.headers["location"] == "/"


def test_logging_out_clears_the_session(web: TestClient, branch_ids: dict[str, int]) -> None:
    token = sign_in(web, "hq1")
    response = web.post("/logout", data={"csrf_token": token}, follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/login?bye=1"
    assert SESSION_COOKIE not in web.cookies
    assert web.get("/", follow_redirects=False).status_code == 303
    assert "您已安全退出" in web.get("/login?bye=1").text


def test_a_cookie_copied_before_logging_out_no_longer_works(
    web: TestClient, branch_ids: dict[str, int]
) -> None:
    token = sign_in(web, "hq1")
    copied = web.cookies[SESSION_COOKIE]
    web.post("/logout", data={"csrf_token": token}, follow_redirects=False)
    web.cookies.set(SESSION_COOKIE, copied)
    assert web.get("/", follow_redirects=False).status_code == 303


def test_a_post_without_the_csrf_token_is_refused(
    web: TestClient, branch_ids: dict[str, int]
) -> None:
    sign_in(web, "hq1")
    assert web.post("/logout", data={}).status_code == 403
    assert web.post("/logout", data={"csrf_token": "not-the-token"}).status_code == 403
    assert web.get("/").status_code == 200  # still signed in


def test_a_tampered_session_cookie_is_not_accepted(
    web: TestClient, branch_ids: dict[str, int]
) -> None:
    sign_in(web, "hq1")
    web.cookies.set(SESSION_COOKIE, web.cookies[SESSION_COOKIE][:-2] + "xx")
    assert web.get("/", follow_redirects=False).status_code == 303


def test_a_deactivated_user_is_signed_out_at_the_next_click(
    web: TestClient, engine: Engine, branch_ids: dict[str, int]
) -> None:
    sign_in(web, "sz1")
    with session_scope(engine) as session:
        deactivate_user(session, username="sz1", actor="test")
    response = web.get("/inbox", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"].startswith("/login")


def test_too_many_wrong_passwords_lock_the_login_page_too(
    web: TestClient, branch_ids: dict[str, int]
) -> None:
    web.app.state.settings.login_max_failures = 2  # type: ignore[attr-defined]
    for password in ("wrong", "wrong again", "correct horse battery"):
        page = web.get("/login")
        response = web.post(
            "/login",
            data={"username": "sz1", "password": password, "csrf_token": csrf_of(page.text)},
            follow_redirects=False,
        )
    assert response.status_code == 429
    assert "登录失败次数过多" in response.text
    assert SESSION_COOKIE not in web.cookies

"""Logging in, tokens that expire, and access that ends the moment an account changes."""

from __future__ import annotations

from datetime import timedelta

import jwt
from fastapi.testclient import TestClient
from pwdlib import PasswordHash
from sqlalchemy.engine import Engine
from sqlmodel import select

import app.auth
from app.db import session_scope
from app.tables import User
from app.users.service import deactivate_user, move_user
from tests.app.factories import login


def test_a_user_logs_in_with_the_password_flow(
    client: TestClient, branch_ids: dict[str, int]
) -> None:
    response = client.post(
        "/api/v1/auth/token", data={"username": "hq1", "password": "correct horse battery"}
    )
    body = response.json()
    assert response.status_code == 200
    assert body["token_type"] == "bearer"
    assert (
        client.get(
            "/api/v1/leads", headers={"Authorization": f"Bearer {body['access_token']}"}
        ).status_code
        == 200
    )


def test_a_wrong_password_or_unknown_user_gets_401(
    client: TestClient, branch_ids: dict[str, int]
) -> None:
    for username, password in [("hq1", "wrong password"), ("nobody", "correct horse battery")]:
        response = client.post(
            "/api/v1/auth/token", data={"username": username, "password": password}
        )
        assert response.status_code == 401
        assert response.json()["error"] == "not_authenticated"


def test_requests_without_a_valid_token_are_refused(
    client: TestClient, branch_ids: dict[str, int]
) -> None:
    assert client.get("/api/v1/leads").status_code == 401
    assert (
        client.get("/api/v1/leads", headers={"Authorization": "Bearer nonsense"}).status_code == 401
    )


def test_an_expired_token_is_refused(client: TestClient, branch_ids: dict[str, int]) -> None:
    headers = login(client, "hq1")
    token = headers["Authorization"].removeprefix("Bearer ")
    settings = client.app.state.settings  # type: ignore[attr-defined]
    claims = jwt.decode(
        token, settings.secret_key, algorithms=["HS256"], options={"verify_exp": False}
    )
    claims["exp"] = claims["iat"] - int(timedelta(minutes=1).total_seconds())
    expired = jwt.encode(claims, settings.secret_key, algorithm="HS256")
    assert (
        client.get("/api/v1/leads", headers={"Authorization": f"Bearer {expired}"}).status_code
        == 401
    )


def test_a_deactivated_user_loses_access_at_once(
    client: TestClient, engine: Engine, branch_ids: dict[str, int]
) -> None:
    headers = login(client, "sz1")
    assert client.get("/api/v1/leads", headers=headers).status_code == 200
    with session_scope(engine) as session:
        deactivate_user(session, username="sz1", actor="test")
    assert client.get("/api/v1/leads", headers=headers).status_code == 401
    response = client.post(
        "/api/v1/auth/token", data={"username": "sz1", "password": "correct horse battery"}
    )
    assert response.status_code == 401


def test_a_user_moved_to_another_branch_loses_the_old_token(
    client: TestClient, engine: Engine, branch_ids: dict[str, int]
) -> None:
    headers = login(client, "sz1")
    with session_scope(engine) as session:
        move_user(session, username="sz1", branch_code="BJ-CY", actor="test")
    assert client.get("/api/v1/leads", headers=headers).status_code == 401
    assert client.get("/api/v1/leads", headers=login(client, "sz1")).status_code == 200


def test_a_hash_made_with_other_parameters_is_upgraded_at_sign_in(
    client: TestClient, engine: Engine, branch_ids: dict[str, int]
) -> None:
    old_hash = PasswordHash.recommended().hash("correct horse battery")  # 64 MiB, 3 passes, 4 lanes
    with session_scope(engine) as session:
        session.exec(select(User).where(User.username == "sz1")).one().password_hash = old_hash
    assert client.get("/api/v1/leads", headers=login(client, "sz1")).status_code == 200
    with session_scope(engine) as session:
        stored = session.exec(select(User).where(User.username == "sz1")).one().password_hash
    assert stored != old_hash
    assert not app.auth._hasher.current_hasher.check_needs_rehash(stored)  # today's parameters
    assert client.get("/api/v1/leads", headers=login(client, "sz1")).status_code == 200


def test_finance_may_not_list_leads(client: TestClient, branch_ids: dict[str, int]) -> None:
    assert client.get("/api/v1/leads", headers=login(client, "fin1")).status_code == 403


def test_repeated_wrong_passwords_lock_the_username_for_a_while(
    client: TestClient, branch_ids: dict[str, int]
) -> None:
    client.app.state.settings.login_max_failures = 3  # type: ignore[attr-defined]
    for _ in range(3):
        wrong = client.post(
            "/api/v1/auth/token", data={"username": "sz1", "password": "guess guess"}
        )
        assert wrong.status_code == 401
    locked = client.post(
        "/api/v1/auth/token", data={"username": "sz1", "password": "correct horse battery"}
    )
    assert locked.status_code == 429
    assert (
        client.post(
            "/api/v1/auth/token", data={"username": "bj1", "password": "correct horse battery"}
        ).status_code
        == 200
    )


def test_guessing_many_usernames_from_one_address_locks_the_address(
    client: TestClient, branch_ids: dict[str, int]
) -> None:
    client.app.state.settings.login_max_failures_per_client = 3  # type: ignore[attr-defined]
    for name in ("sz1", "bj1", "nobody"):
        wrong = client.post("/api/v1/auth/token", data={"username": name, "password": "guess"})
        assert wrong.status_code == 401
    locked = client.post(
        "/api/v1/auth/token", data={"username": "hq1", "password": "correct horse battery"}
    )
    print(
        f"metric=login_attempts_refused_per_client value={int(locked.status_code == 429)} threshold=1"
    )
    assert locked.status_code == 429
    assert "address" in locked.json()["detail"]

"""Staff accounts on the page (issue 17.3): HQ creates, moves, resets and deactivates; every
refusal is said in Chinese beside the kept form; every change is audited."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import func
from sqlalchemy.engine import Engine
from sqlmodel import select

from app.db import session_scope
from app.tables import AuditRecord, User
from tests.web.helpers import sign_in


def _user(engine: Engine, username: str) -> User | None:
    with session_scope(engine) as session:
        user = session.exec(select(User).where(User.username == username)).first()
        if user is not None:
            session.expunge(user)
        return user


def test_hq_creates_a_branch_user_who_can_then_sign_in(
    web: TestClient, engine: Engine, branch_ids: dict[str, int]
) -> None:
    token = sign_in(web, "hq1")
    form = {"csrf_token": token, "username": "li.na", "role": "branch", "branch": "BJ-CY",
            "password": "a long new password"}  # fmt: skip
    created = web.post("/hq/users", data=form, follow_redirects=False)
    assert created.status_code == 303
    assert created.headers["location"] == "/hq/users?done=created"
    page = web.get("/hq/users?done=created").text
    assert "账号已创建" in page
    assert 'data-user="li.na"' in page
    web.cookies.clear()
    sign_in(web, "li.na", "a long new password")
    assert web.get("/inbox").status_code == 200


def test_a_refused_form_says_why_in_chinese_and_keeps_what_was_typed(
    web: TestClient, branch_ids: dict[str, int]
) -> None:
    token = sign_in(web, "hq1")
    taken = {"csrf_token": token, "username": "sz1", "role": "branch", "branch": "SZ-FT",
             "password": "another password"}  # fmt: skip
    refused = web.post("/hq/users", data=taken)
    assert refused.status_code == 409
    assert "用户名 sz1 已被使用" in refused.text
    assert 'value="sz1"' in refused.text
    assert "another password" not in refused.text  # never echoed
    short = web.post("/hq/users", data={**taken, "username": "new.one", "password": "short"})
    assert "密码至少需要 8 个字符" in short.text
    nowhere = web.post("/hq/users", data={**taken, "username": "new.one", "branch": "NOPE"})
    assert "没有代码为 NOPE 的营业部" in nowhere.text


def test_hq_moves_resets_and_deactivates_and_each_change_is_audited(
    web: TestClient, engine: Engine, branch_ids: dict[str, int]
) -> None:
    token = sign_in(web, "hq1")
    moved = web.post("/hq/users/sz1/move", data={"csrf_token": token, "branch": "BJ-CY"})
    assert moved.status_code == 200  # followed to the list
    assert "已调动营业部" in moved.text
    user = _user(engine, "sz1")
    assert user is not None
    assert user.branch_id == branch_ids["BJ-CY"]
    reset = web.post(
        "/hq/users/sz1/password", data={"csrf_token": token, "password": "new secret 1"}
    )
    assert "密码已重置" in reset.text
    own = web.post("/hq/users/hq1/deactivate", data={"csrf_token": token})
    assert own.status_code == 409
    assert "不能停用自己正在使用的账号" in own.text
    gone = web.post("/hq/users/sz1/deactivate", data={"csrf_token": token})
    assert "账号已停用" in gone.text
    user = _user(engine, "sz1")
    assert user is not None
    assert not user.active
    with session_scope(engine) as session:
        actions = {"user.move", "user.password_reset", "user.deactivate"}
        count = select(func.count()).where(AuditRecord.action.in_(actions))  # type: ignore[attr-defined]
        assert session.exec(count).one() == 3


def test_auditors_read_the_accounts_without_the_forms(
    web: TestClient, branch_ids: dict[str, int]
) -> None:
    sign_in(web, "aud1")
    page = web.get("/hq/users")
    assert page.status_code == 200
    assert 'data-user="sz1"' in page.text
    assert 'data-testid="create-user"' not in page.text
    assert "/deactivate" not in page.text

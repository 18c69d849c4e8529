"""Notifications on the pages: a branch reads and marks its own in the inbox (in Chinese, never
another branch's), and HQ sees the dead letters and sends one again."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import update
from sqlalchemy.engine import Engine
from sqlmodel import col, select

from app.db import session_scope
from app.notifications.service import notify_assigned, notify_reclaimed
from app.tables import AuditRecord, NotificationOutbox
from tests.app.factories import login
from tests.web.helpers import sign_in


def _notify(engine: Engine, branch_ids: dict[str, int]) -> None:
    with session_scope(engine) as session:
        notify_assigned(session, branch_ids["SZ-FT"], [11, 12, 13], "round")
        notify_reclaimed(session, released=[(branch_ids["BJ-CY"], 21)])


def test_the_inbox_shows_the_branchs_unread_notifications_and_marks_one_read(
    web: TestClient, engine: Engine, branch_ids: dict[str, int]
) -> None:
    _notify(engine, branch_ids)
    csrf = sign_in(web, "sz1")
    page = web.get("/inbox").text
    assert "新分配给本营业部 3 条线索（分配轮次）" in page
    assert "已收回线索池" not in page  # Beijing's, not Shenzhen's
    done = web.post("/inbox/notifications/1/read", data={"csrf_token": csrf},
                    follow_redirects=False)  # fmt: skip
    assert done.status_code == 303
    page = web.get(done.headers["location"]).text
    assert "通知已标为已读。" in page
    assert 'data-testid="notices"' not in page


def test_a_branch_cannot_read_or_mark_another_branchs_notification(
    web: TestClient, engine: Engine, branch_ids: dict[str, int]
) -> None:
    _notify(engine, branch_ids)  # 1: Shenzhen's, 2: Beijing's
    csrf = sign_in(web, "bj1")
    refused = web.post("/inbox/notifications/1/read", data={"csrf_token": csrf},
                       follow_redirects=False)  # fmt: skip
    assert refused.status_code == 404
    beijing = login(web, "bj1")
    listed = web.get("/api/v1/notifications", headers=beijing).json()
    assert [n["id"] for n in listed["items"]] == [2]
    assert listed["items"][0]["text"].startswith("1 lead(s) were reclaimed")
    assert web.post("/api/v1/notifications/1/read", headers=beijing).status_code == 404
    shenzhen = login(web, "sz1")
    still = web.get("/api/v1/notifications", headers=shenzhen).json()
    assert still["unread"] == 1  # untouched by Beijing
    read = web.post("/api/v1/notifications/1/read", headers=shenzhen).json()
    assert read["read_at"] is not None
    assert read["lead_ids"] == [11, 12, 13]
    assert web.get("/api/v1/notifications", headers=shenzhen).json()["unread"] == 0


def test_hq_sees_dead_letters_and_sends_one_again(
    web: TestClient, engine: Engine, branch_ids: dict[str, int]
) -> None:
    _notify(engine, branch_ids)
    with session_scope(engine) as session:
        session.execute(update(NotificationOutbox).where(col(NotificationOutbox.id) == 2)
                        .values(status="dead", attempts=8, last_error="HTTP 502"))  # fmt: skip
    csrf = sign_in(web, "hq1")
    page = web.get("/hq/notifications").text
    assert "HTTP 502" in page
    assert "重新投递" in page
    retried = web.post("/hq/notifications/2/retry", data={"csrf_token": csrf},
                       follow_redirects=False)  # fmt: skip
    assert retried.status_code == 303
    page = web.get(retried.headers["location"]).text
    assert "已重新排队" in page
    assert 'data-testid="no-dead-letters"' in page
    again = web.post("/hq/notifications/2/retry", data={"csrf_token": csrf})
    assert again.status_code == 409
    assert "无需重试" in again.text
    with session_scope(engine) as session:
        box = session.get(NotificationOutbox, 2)
        audit = session.exec(select(AuditRecord).where(
            AuditRecord.action == "notification.retry")).one()  # fmt: skip
    assert box is not None
    assert (box.status, box.attempts) == ("pending", 0)
    assert audit.actor == "hq1"
    counts = web.get("/api/v1/notifications/deliveries", headers=login(web, "hq1")).json()
    assert counts["counts"]["pending"] == 2

"""Webhook delivery from the outbox to a real HTTP receiver: signed, retried with backoff until
it is taken, dead after the last attempt, and retried by HQ from the dead letters."""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import timedelta

import httpx
import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select
from typer.testing import CliRunner

from app import clock
from app.cli import cli
from app.config import Settings, get_settings
from app.db import session_scope
from app.errors import Conflict, InvalidInput
from app.notifications.delivery import DeliveryReport, deliver_due
from app.notifications.outbox import backoff, claim_due, deliveries, retry_dead
from app.notifications.service import notify_assigned
from app.tables import AuditRecord, NotificationOutbox
from tests.app.webhook_receiver import webhook_receiver
from tests.conftest import TEST_NOW, settings_for

SECRET = "webhook-secret-for-tests-0123456789"


@pytest.fixture
def http() -> Iterator[httpx.Client]:
    with httpx.Client(trust_env=False) as client:  # straight to 127.0.0.1, whatever the proxy
        yield client


def _hooked(settings: Settings, url: str | None, **more: object) -> Settings:
    update = {"notify_webhook_url": url, "notify_webhook_secret": SECRET, **more}
    return settings.model_copy(update=update)


def _notify(engine: Engine, branch_ids: dict[str, int], count: int) -> None:
    with session_scope(engine) as session:
        for n in range(count):
            notify_assigned(session, branch_ids["SZ-FT" if n % 2 else "BJ-CY"], [n + 1])


def _states(session: Session) -> dict[str, int]:
    return deliveries(session).counts


def _drain(engine: Engine, settings: Settings, http: httpx.Client, frozen: clock.FrozenClock,
           rng: random.Random) -> list[DeliveryReport]:  # fmt: skip
    """Passes of the worker, the clock moved to the next due row in between (no real sleep)."""
    reports = []
    while True:
        reports.append(deliver_due(engine, settings=settings, client=http, rng=rng))
        with session_scope(engine) as session:
            due = session.exec(
                select(NotificationOutbox.next_attempt_at)
                .where(NotificationOutbox.status == "pending")
                .order_by(col(NotificationOutbox.next_attempt_at))
            ).first()
        if due is None:
            return reports
        frozen.advance(max(due - frozen.at, timedelta()))


def test_a_receiver_gets_each_notification_signed_once_with_its_idempotency_key(
    engine: Engine, settings: Settings, branch_ids: dict[str, int], http: httpx.Client
) -> None:
    _notify(engine, branch_ids, 3)
    with webhook_receiver(SECRET) as (url, received):
        report = deliver_due(engine, settings=_hooked(settings, url), client=http,
                             rng=random.Random(1))  # fmt: skip
    assert report.outcomes == {"sent": 3}
    assert received.bad_signatures == 0
    assert received.distinct() == {f"o2o-notification-{n}" for n in (1, 2, 3)}
    first = received.accepted[0]
    assert first["event"] == "leads.assigned"
    assert first["branch"] == "BJ-CY"
    assert first["lead_ids"] == [1]
    assert first["lead_count"] == 1
    assert first["source"] == "routing"
    with session_scope(engine) as session:
        assert _states(session)["sent"] == 3


def test_a_wrong_secret_is_refused_by_the_receiver_and_retried(
    engine: Engine, settings: Settings, branch_ids: dict[str, int], http: httpx.Client
) -> None:
    _notify(engine, branch_ids, 1)
    with webhook_receiver("another-secret-entirely-0123456789") as (url, received):
        report = deliver_due(engine, settings=_hooked(settings, url), client=http,
                             rng=random.Random(1))  # fmt: skip
    assert received.bad_signatures == 1
    assert report.outcomes == {"pending": 1}
    with session_scope(engine) as session:
        row = session.exec(select(NotificationOutbox)).one()
    assert row.last_error == "HTTP 401"
    assert row.attempts == 1


def test_a_receiver_failing_half_the_time_still_gets_every_notification(
    engine: Engine, settings: Settings, branch_ids: dict[str, int], http: httpx.Client
) -> None:
    _notify(engine, branch_ids, 40)
    with (
        clock.frozen_at(TEST_NOW) as frozen,
        webhook_receiver(SECRET, fail_every_other=True) as (url, received),
    ):
        reports = _drain(engine, _hooked(settings, url), http, frozen, random.Random(7))
    attempts = sum(r.attempts for r in reports)
    assert received.distinct() == {f"o2o-notification-{n}" for n in range(1, 41)}
    assert attempts == received.requests
    assert 40 <= len(received.keys) <= attempts
    with session_scope(engine) as session:
        assert _states(session) == {"pending": 0, "sent": 40, "dead": 0, "unrouted": 0}


def test_after_the_last_attempt_a_delivery_is_dead_until_hq_retries_it(
    engine: Engine, settings: Settings, branch_ids: dict[str, int], http: httpx.Client
) -> None:
    _notify(engine, branch_ids, 1)
    with clock.frozen_at(TEST_NOW) as frozen:
        with webhook_receiver(SECRET, always_fail=True) as (url, received):
            hooked = _hooked(settings, url, notify_max_attempts=3)
            _drain(engine, hooked, http, frozen, random.Random(3))
        assert received.requests == 3
        with session_scope(engine) as session:
            (dead,) = deliveries(session).dead
            assert dead.attempts == 3
            assert dead.last_error == "HTTP 500"
            retry_dead(session, delivery_id=dead.id, actor="hq1")
        with session_scope(engine) as session, pytest.raises(Conflict):
            retry_dead(session, delivery_id=dead.id, actor="hq1")  # only dead ones
        with webhook_receiver(SECRET) as (url, received):
            report = deliver_due(engine, settings=_hooked(settings, url), client=http,
                                 rng=random.Random(3))  # fmt: skip
    assert report.outcomes == {"sent": 1}
    assert len(received.accepted) == 1
    with session_scope(engine) as session:
        audit = session.exec(select(AuditRecord).where(
            AuditRecord.action == "notification.retry")).one()  # fmt: skip
    assert audit.actor == "hq1"
    assert audit.entity_id == str(dead.id)


def test_retries_back_off_exponentially_with_jitter_up_to_a_ceiling() -> None:
    rng = random.Random(11)
    tuned = settings_for("sqlite://").model_copy(
        update={"notify_backoff_seconds": 30.0, "notify_backoff_max_seconds": 600.0}
    )
    for attempt, ceiling in [(1, 30), (2, 60), (3, 120), (5, 480), (6, 600), (40, 600)]:
        delays = {backoff(attempt, settings=tuned, rng=rng).total_seconds() for _ in range(50)}
        assert all(ceiling / 2 <= d <= ceiling for d in delays)
        assert len(delays) > 1


def test_a_branch_may_have_its_own_webhook_and_one_without_any_stays_in_the_inbox(
    engine: Engine, settings: Settings, branch_ids: dict[str, int], http: httpx.Client
) -> None:
    _notify(engine, branch_ids, 2)  # one for BJ-CY, one for SZ-FT
    with webhook_receiver(SECRET) as (url, received):
        own = _hooked(settings, None, notify_branch_webhooks={"SZ-FT": url})
        report = deliver_due(engine, settings=own, client=http, rng=random.Random(1))
    assert report.outcomes == {"sent": 1, "unrouted": 1}
    assert [body["branch"] for body in received.accepted] == ["SZ-FT"]


def test_webhooks_without_a_signing_secret_are_refused(
    engine: Engine, settings: Settings, http: httpx.Client
) -> None:
    unsigned = settings.model_copy(update={"notify_webhook_url": "http://127.0.0.1:9/hook"})
    with pytest.raises(InvalidInput, match="O2O_NOTIFY_WEBHOOK_SECRET"):
        deliver_due(engine, settings=unsigned, client=http, rng=random.Random(1))


def test_two_workers_never_claim_the_same_delivery(
    engine: Engine, settings: Settings, branch_ids: dict[str, int]
) -> None:
    _notify(engine, branch_ids, 6)
    lease = timedelta(minutes=1)
    now = clock.utcnow()
    if engine.dialect.name == "postgresql":  # both claims in flight at once: SKIP LOCKED
        with Session(engine) as first, Session(engine) as second:
            mine = claim_due(first, now=now, limit=4, lease=lease)
            theirs = claim_due(second, now=now, limit=4, lease=lease)
            first.commit()
            second.commit()
    else:  # one writer at a time: the second claim sees the first one's lease
        with session_scope(engine) as first:
            mine = claim_due(first, now=now, limit=4, lease=lease)
        with session_scope(engine) as second:
            theirs = claim_due(second, now=now, limit=4, lease=lease)
    assert len(mine) == 4
    assert len(theirs) == 2
    assert not {c.outbox_id for c in mine} & {c.outbox_id for c in theirs}


def test_notify_run_once_delivers_what_is_due_and_exits(
    engine: Engine,
    settings: Settings,
    branch_ids: dict[str, int],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _notify(engine, branch_ids, 2)
    with webhook_receiver(SECRET) as (url, received):
        for name, value in {"DATABASE_URL": settings.database_url, "NOTIFY_WEBHOOK_URL": url,
                            "SECRET_KEY": settings.secret_key,
                            "NOTIFY_WEBHOOK_SECRET": SECRET}.items():  # fmt: skip
            monkeypatch.setenv(f"O2O_{name}", value)
        get_settings.cache_clear()
        try:
            result = CliRunner().invoke(cli, ["notify", "run", "--once"])
        finally:
            get_settings.cache_clear()
    assert result.exit_code == 0, result.output
    assert "2 attempt(s): 2 sent" in result.output
    assert len(received.accepted) == 2


def test_a_worker_that_dies_mid_post_leaves_its_claim_to_the_next_one_after_the_lease(
    engine: Engine, settings: Settings, branch_ids: dict[str, int], http: httpx.Client
) -> None:
    _notify(engine, branch_ids, 2)
    with clock.frozen_at(TEST_NOW) as frozen, webhook_receiver(SECRET) as (url, received):
        with session_scope(engine) as session:  # claimed, then the process is killed
            claim_due(session, now=frozen.at, limit=10, lease=timedelta(seconds=70))
        hooked = _hooked(settings, url)
        assert deliver_due(engine, settings=hooked, client=http, rng=random.Random(1)).attempts == 0
        frozen.advance(timedelta(seconds=71))
        report = deliver_due(engine, settings=hooked, client=http, rng=random.Random(1))
    assert report.outcomes == {"sent": 2}
    assert len(received.accepted) == 2

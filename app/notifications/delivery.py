"""The delivery worker (`o2o notify run`): claim due outbox rows, POST each signed body to its
branch's webhook, record the outcome, until nothing is due."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import timedelta

import httpx
from sqlalchemy.engine import Engine

from app.clock import utcnow
from app.config import Settings
from app.db import session_scope
from app.errors import InvalidInput
from app.notifications.outbox import Claimed, claim_due, record, record_unrouted
from app.notifications.signing import EVENTS, body, headers

BATCH = 50
UNROUTED = "unrouted"


@dataclass
class DeliveryReport:
    attempts: int = 0
    outcomes: dict[str, int] = field(default_factory=dict)  # sent / pending / dead / unrouted

    def add(self, status: str) -> None:
        self.outcomes[status] = self.outcomes.get(status, 0) + 1
        self.attempts += status != UNROUTED


def webhook_for(settings: Settings, branch_code: str) -> str | None:
    return settings.notify_branch_webhooks.get(branch_code) or settings.notify_webhook_url


def signing_secret(settings: Settings) -> str:
    """The secret deliveries are signed with; refused when webhooks are set without one."""
    configured = settings.notify_webhook_url or settings.notify_branch_webhooks
    if configured and not settings.notify_webhook_secret:
        raise InvalidInput("O2O_NOTIFY_WEBHOOK_SECRET must be set to sign webhook deliveries")
    return settings.notify_webhook_secret or ""


def deliver_due(
    engine: Engine, *, settings: Settings, client: httpx.Client, rng: random.Random
) -> DeliveryReport:
    """Deliver every row due now, batch by batch; rows that fail are due again later."""
    secret, report = signing_secret(settings), DeliveryReport()
    lease = timedelta(seconds=settings.notify_timeout_seconds + 60)
    while True:
        with session_scope(engine) as session:
            claimed = claim_due(session, now=utcnow(), limit=BATCH, lease=lease)
        if not claimed:
            return report
        outcomes = [(each, _attempt(client, settings, secret, each)) for each in claimed]
        with session_scope(engine) as session:
            for each, error in outcomes:
                if error == UNROUTED:
                    record_unrouted(session, each, now=utcnow())
                    report.add(UNROUTED)
                    continue
                report.add(record(session, each, error=error, now=utcnow(), settings=settings,
                                  rng=rng))  # fmt: skip


def _attempt(client: httpx.Client, settings: Settings, secret: str, claimed: Claimed) -> str | None:
    """POST once: None when the receiver took it (2xx), else what went wrong."""
    url = webhook_for(settings, claimed.branch_code)
    if url is None:
        return UNROUTED
    note = claimed.notification
    payload = body(note, branch_code=claimed.branch_code)
    signed = headers(secret, notification_id=note.id or 0, event=EVENTS[note.kind],
                     timestamp=int(utcnow().timestamp()), payload=payload,
                     attempt=claimed.attempt)  # fmt: skip
    try:
        response = client.post(url, content=payload, headers=signed,
                               timeout=settings.notify_timeout_seconds)  # fmt: skip
    except httpx.HTTPError as exc:
        return f"{type(exc).__name__}: {exc}"
    if response.is_success:
        return None
    return f"HTTP {response.status_code}"

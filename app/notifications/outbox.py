"""The outbox's state machine: claim due rows, record each attempt, dead letters for HQ.

A claim is a short transaction that pushes the rows' `next_attempt_at` past the request's
timeout (a lease) and counts the attempt; the POST runs with no transaction open, and its
outcome is recorded in another short one. A worker that dies mid-POST leaves the row to be
claimed again when the lease runs out: delivery is at least once (receivers dedupe on the
Idempotency-Key header). PostgreSQL workers skip each other's locked rows (FOR UPDATE SKIP
LOCKED); SQLite has one writer at a time, which the claim takes first.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, update
from sqlmodel import Session, col, select

from app import audit
from app.config import Settings
from app.db import write_first
from app.errors import Conflict, NotFound
from app.notifications.schemas import DeliveryList, DeliveryRead
from app.tables import Branch, Notification, NotificationOutbox
from app.tables.base import utcnow
from coded_messages import message

DEAD_SHOWN = 200


@dataclass(frozen=True, slots=True)
class Claimed:
    outbox_id: int
    attempt: int  # this attempt's number, from 1
    notification: Notification
    branch_code: str


def claim_due(session: Session, *, now: datetime, limit: int, lease: timedelta) -> list[Claimed]:
    """Take up to `limit` due deliveries for one attempt each."""
    write_first(session)  # SQLite: the one writer, before reading what to claim
    due = (
        select(col(NotificationOutbox.id))
        .where(col(NotificationOutbox.status) == "pending")
        .where(col(NotificationOutbox.next_attempt_at) <= now)
        .order_by(col(NotificationOutbox.next_attempt_at), col(NotificationOutbox.id))
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    ids = list(session.exec(due))
    if not ids:
        return []
    session.execute(
        update(NotificationOutbox)
        .where(col(NotificationOutbox.id).in_(ids))
        .values(
            attempts=col(NotificationOutbox.attempts) + 1,
            next_attempt_at=now + lease,
            updated_at=now,
        )
    )
    rows = session.exec(
        select(NotificationOutbox, Notification, Branch.code)
        .join(Notification, col(Notification.id) == col(NotificationOutbox.notification_id))
        .join(Branch, col(Branch.id) == col(Notification.branch_id))
        .where(col(NotificationOutbox.id).in_(ids))
        .order_by(col(NotificationOutbox.id))
    )
    return [Claimed(box.id or 0, box.attempts, note, code) for box, note, code in rows]


def backoff(attempt: int, *, settings: Settings, rng: random.Random) -> timedelta:
    """Exponential from `notify_backoff_seconds`, capped, with jitter (half to all of it) so
    that a receiver coming back is not hit by every retry at the same instant."""
    ceiling = settings.notify_backoff_seconds * 2 ** min(attempt - 1, 32)
    delay = min(settings.notify_backoff_max_seconds, ceiling)
    return timedelta(seconds=delay * (0.5 + rng.random() / 2))


def record(
    session: Session,
    claimed: Claimed,
    *,
    error: str | None,
    now: datetime,
    settings: Settings,
    rng: random.Random,
) -> str:
    """The attempt's outcome: sent, due again after a backoff, or dead; returns the status."""
    if error is None:
        values: dict[str, object] = {"status": "sent", "sent_at": now, "last_error": None}
    elif claimed.attempt >= settings.notify_max_attempts:
        values = {"status": "dead", "last_error": error[:500]}
    else:
        retry_at = now + backoff(claimed.attempt, settings=settings, rng=rng)
        values = {"next_attempt_at": retry_at, "last_error": error[:500]}
    session.execute(
        update(NotificationOutbox)
        .where(col(NotificationOutbox.id) == claimed.outbox_id)
        .where(col(NotificationOutbox.attempts) == claimed.attempt)  # still this worker's claim
        .where(col(NotificationOutbox.status) == "pending")
        .values(**values, updated_at=now)
    )
    return str(values.get("status", "pending"))


def record_unrouted(session: Session, claimed: Claimed, *, now: datetime) -> None:
    """No webhook for the branch: the inbox is where it is read."""
    session.execute(
        update(NotificationOutbox)
        .where(col(NotificationOutbox.id) == claimed.outbox_id)
        .values(status="unrouted", updated_at=now)
    )


def deliveries(session: Session) -> DeliveryList:
    """How many deliveries are in each state, and the latest dead letters (HQ)."""
    counts = dict.fromkeys(("pending", "sent", "dead", "unrouted"), 0)
    by_status = select(NotificationOutbox.status, func.count()).group_by(
        col(NotificationOutbox.status)
    )
    counts.update({status: int(n) for status, n in session.exec(by_status)})
    dead = session.exec(
        select(NotificationOutbox, Notification, Branch.code)
        .join(Notification, col(Notification.id) == col(NotificationOutbox.notification_id))
        .join(Branch, col(Branch.id) == col(Notification.branch_id))
        .where(col(NotificationOutbox.status) == "dead")
        .order_by(col(NotificationOutbox.id).desc())
        .limit(DEAD_SHOWN)
    )
    return DeliveryList(counts=counts, dead=[_read(box, note, code) for box, note, code in dead])


def _read(box: NotificationOutbox, note: Notification, code: str) -> DeliveryRead:
    return DeliveryRead(
        id=box.id or 0, notification_id=box.notification_id, branch_code=code, kind=note.kind,
        status=box.status, attempts=box.attempts, next_attempt_at=box.next_attempt_at,
        last_error=box.last_error, sent_at=box.sent_at,
    )  # fmt: skip


def retry_dead(session: Session, *, delivery_id: int, actor: str) -> None:
    """Put a dead delivery back in the queue, due at once with a fresh count (HQ, audited)."""
    box = session.get(NotificationOutbox, delivery_id)
    if box is None:
        raise NotFound(f"delivery {delivery_id} not found")
    if box.status != "dead":
        raise Conflict(message("notice.not_dead", delivery=delivery_id))
    audit.record(session, actor=actor, action="notification.retry", entity_type="delivery",
                 entity_id=delivery_id, detail={"attempts": box.attempts,
                                                "last_error": box.last_error})  # fmt: skip
    now = utcnow()
    box.status, box.attempts, box.next_attempt_at, box.updated_at = "pending", 0, now, now
    session.add(box)
    session.flush()

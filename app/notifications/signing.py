"""What a webhook receives: the JSON body, its HMAC-SHA256 signature and the headers
(docs/contract.md §10 says how a receiver verifies them)."""

from __future__ import annotations

import hashlib
import hmac
import json

from app.notifications.inbox import notification_read
from app.tables import Notification

EVENTS = {"assigned": "leads.assigned", "deadline_approaching": "leads.deadline_approaching",
          "reclaimed": "leads.reclaimed"}  # fmt: skip


def body(notification: Notification, *, branch_code: str) -> bytes:
    """The same bytes on every attempt: compact JSON, keys sorted, UTF-8."""
    read = notification_read(notification)
    payload = {
        "id": read.id,
        "event": EVENTS[read.kind],
        "branch": branch_code,
        "source": read.source,
        "round_id": read.round_id,
        "lead_count": read.lead_count,
        "lead_ids": read.lead_ids,
        "lead_ids_truncated": read.lead_ids_truncated,
        "text": read.text,
        "created_at": read.created_at.isoformat(),
    }
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":"), sort_keys=True).encode()


def signature(secret: str, *, timestamp: int, payload: bytes) -> str:
    """`sha256=` and the hex HMAC-SHA256 of `<timestamp>.<body bytes>` under the secret."""
    signed = str(timestamp).encode() + b"." + payload
    return "sha256=" + hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()


def headers(
    secret: str, *, notification_id: int, event: str, timestamp: int, payload: bytes, attempt: int
) -> dict[str, str]:
    return {
        "Content-Type": "application/json; charset=utf-8",
        "Idempotency-Key": f"o2o-notification-{notification_id}",
        "X-O2O-Event": event,
        "X-O2O-Timestamp": str(timestamp),
        "X-O2O-Signature": signature(secret, timestamp=timestamp, payload=payload),
        "X-O2O-Attempt": str(attempt),
    }

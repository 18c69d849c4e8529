"""API shapes of notifications: a branch's inbox and HQ's dead-letter list."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel


class NotificationRead(BaseModel):
    id: int
    kind: str  # assigned | deadline_approaching | reclaimed
    source: str  # round | routing | followup
    round_id: int | None
    lead_count: int
    lead_ids: list[int]  # the first ones only (see lead_ids_truncated)
    lead_ids_truncated: bool
    text: str
    created_at: datetime
    read_at: datetime | None


class NotificationList(BaseModel):
    items: list[NotificationRead]
    unread: int


class DeliveryRead(BaseModel):
    id: int
    notification_id: int
    branch_code: str
    kind: str
    status: str  # pending | sent | dead | unrouted
    attempts: int
    next_attempt_at: datetime
    last_error: str | None
    sent_at: datetime | None


class DeliveryList(BaseModel):
    counts: dict[str, int]
    dead: list[DeliveryRead]

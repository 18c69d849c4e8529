"""Writing notifications as sets, in the caller's transaction, each with its outbox row.

One notification per (branch, event) whatever the number of leads: a round of 1.3M leads writes
one row per branch (two statements), with the count and the first `LEAD_IDS_SHOWN` lead ids.
The outbox rows are inserted from the same batch in the same transaction, so a rolled-back
event sends nothing and a committed one is always delivered (`app/notifications/delivery.py`).
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any
from uuid import uuid4

from sqlalchemy import Integer, Select, Text, bindparam, cast, func, insert, literal, select
from sqlalchemy.dialects.postgresql import aggregate_order_by
from sqlmodel import Session, col

from app.db import is_sqlite
from app.tables import Notification, NotificationOutbox
from app.tables.base import UTCDateTime, utcnow

LEAD_IDS_SHOWN = 100


@dataclass(frozen=True, slots=True)
class Told:
    notifications: int
    leads: int


_COLUMNS = ["branch_id", "kind", "source", "round_id", "lead_count", "lead_ids", "batch",
            "created_at"]  # fmt: skip


def notify_from_query(
    session: Session,
    *,
    pairs: Select[Any, Any],
    kind: str,
    source: str,
    round_id: int | None = None,
) -> Told:
    """One notification per branch of `pairs` (columns `branch_id`, `lead_id`)."""
    batch, now = uuid4().hex, utcnow()
    leads = pairs.subquery()
    ranked = select(
        leads.c.branch_id,
        leads.c.lead_id,
        func.row_number().over(partition_by=leads.c.branch_id, order_by=leads.c.lead_id).label("n"),
    ).subquery()
    rows = select(
        ranked.c.branch_id,
        literal(kind),
        literal(source),
        literal(round_id, Integer()),
        func.count(),
        _first_ids(session, ranked.c.lead_id, shown=ranked.c.n <= LEAD_IDS_SHOWN),
        literal(batch),
        literal(now, UTCDateTime()),
    ).group_by(ranked.c.branch_id)
    session.execute(insert(Notification).from_select(_COLUMNS, rows))
    return _queue_deliveries(session, batch=batch)


def _first_ids(session: Session, lead_id: Any, *, shown: Any) -> Any:
    """The `shown` lead ids as a JSON array (SQLite's order is unsaid: read back sorted)."""
    if is_sqlite(session):
        return func.json_group_array(lead_id).filter(shown)
    return cast(func.json_agg(aggregate_order_by(lead_id, lead_id)).filter(shown), Text)


def notify_from_pairs(
    session: Session, *, pairs: Iterable[tuple[int, int]], kind: str, source: str
) -> Told:
    """The same for (branch id, lead id) pairs already in hand (a few: real time, a cron run).
    Written with statements built once, without ORM objects: a routed intake runs it."""
    by_branch: dict[int, list[int]] = defaultdict(list)
    for branch_id, lead_id in pairs:
        by_branch[branch_id].append(lead_id)
    if not by_branch:
        return Told(0, 0)
    batch, now = uuid4().hex, utcnow()
    rows = [
        {"branch_id": branch_id, "kind": kind, "source": source, "round_id": None,
         "lead_count": len(lead_ids), "lead_ids": json.dumps(sorted(lead_ids)[:LEAD_IDS_SHOWN]),
         "batch": batch, "created_at": now}
        for branch_id, lead_ids in sorted(by_branch.items())
    ]  # fmt: skip
    told = Told(len(by_branch), sum(len(ids) for ids in by_branch.values()))
    connection = session.connection()
    if connection.dialect.name == "postgresql":
        named = [{f"new_{name}": value for name, value in row.items()} for row in rows]
        connection.execute(_NOTIFY_AND_QUEUE, [row | {"now": now} for row in named])
        return told
    connection.execute(_INSERT_NOTIFICATION, rows)
    return _queue_deliveries(session, batch=batch, told=told)


_INSERT_NOTIFICATION = insert(Notification)
_OUTBOX_COLUMNS = ["notification_id", "status", "attempts", "next_attempt_at", "updated_at"]
_DUE_NOW = (literal("pending"), literal(0), bindparam("now", type_=UTCDateTime()),
            bindparam("now", type_=UTCDateTime()))  # fmt: skip
# PostgreSQL writes a notification and its outbox row in one statement (a routed intake's
# round trip); SQLite has no writing CTE: the notifications, then `_QUEUE_BATCH`.
_NOTIFIED = (
    insert(Notification)
    .values({name: bindparam(f"new_{name}") for name in _COLUMNS})
    .returning(col(Notification.id))
    .cte("notified")
)
_NOTIFY_AND_QUEUE = (
    insert(NotificationOutbox)
    .from_select(_OUTBOX_COLUMNS, select(_NOTIFIED.c.id, *_DUE_NOW))
    .add_cte(_NOTIFIED)
)
_QUEUE_BATCH = insert(NotificationOutbox).from_select(
    _OUTBOX_COLUMNS,
    select(col(Notification.id), *_DUE_NOW).where(col(Notification.batch) == bindparam("batch")),
)


def _queue_deliveries(session: Session, *, batch: str, told: Told | None = None) -> Told:
    """An outbox row per notification of the batch, due at once (`told`: the batch's counts
    when the caller knows them, one query fewer for a routed intake)."""
    session.connection().execute(_QUEUE_BATCH, {"batch": batch, "now": utcnow()})
    if told is not None:
        return told
    # Counted, not taken from rowcount: psycopg reports -1 for INSERT ... SELECT here.
    count, leads = session.execute(
        select(func.count(), func.coalesce(func.sum(col(Notification.lead_count)), 0)).where(
            col(Notification.batch) == batch
        )
    ).one()
    return Told(int(count), int(leads))

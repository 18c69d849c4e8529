"""Ledger corrections as the tests drive them: reversals and suspense reclassifications."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy.engine import Engine

from app.db import session_scope
from app.journal import service
from app.journal.schemas import EntryRead
from tests.app.ledger_world import HEADER, scalar
from tests.conftest import settings_for

# The corrections read only the approval threshold of the settings: the default, far above
# the amounts here (tests/app/test_correction_approval.py lowers it).
DEFAULTS = settings_for("sqlite://")

# C1 never had an owner, so C-events sit in suspense:unowned.
EVENTS = HEADER + (
    "C-1,C1,other,12.34,2026-10-05T10:00:00,app\n"
    "C-2,C1,product_fee,20.01,2026-10-06T10:00:00,app\n"
    "C-3,C1,other,-1.00,2026-10-07T10:00:00,app\n"
    "A-1,A1,other,5,2026-10-08T10:00:00,app\n"
)
NOVEMBER = datetime(2026, 11, 20, tzinfo=UTC)
DECEMBER = datetime(2026, 12, 2, tzinfo=UTC)


def reclassify(
    engine: Engine, event_id: str, branch: str = "SZ-FT", *, now: datetime = NOVEMBER
) -> EntryRead:
    with session_scope(engine) as session:
        done = service.reclassify_event(session, event_id=event_id, branch_code=branch,
                                        reason="customer was SZ-FT's", actor="fin1",
                                        settings=DEFAULTS, now=now)  # fmt: skip
    assert isinstance(done, EntryRead)
    return done


def entry_id(engine: Engine, key: str) -> int:
    found = scalar(engine, f"SELECT id FROM ledger_entry WHERE business_key = '{key}'")
    assert found is not None
    return int(str(found))


def reverse(engine: Engine, entry: int, *, now: datetime = NOVEMBER) -> EntryRead:
    return reverse_as(engine, entry, actor="fin1", now=now)


def reverse_as(engine: Engine, entry: int, *, actor: str, now: datetime = NOVEMBER,
               reason: str = "wrong customer") -> EntryRead:  # fmt: skip
    with session_scope(engine) as session:
        done = service.reverse_entry(session, entry_id=entry, reason=reason, actor=actor,
                                     settings=DEFAULTS, now=now)  # fmt: skip
    assert isinstance(done, EntryRead)
    return done

"""`read_only`: a read's statements run without a transaction, and the connection goes back to
the pool as it came, so the next request's writes are one transaction again."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.engine import Engine

from app.db import session_scope
from app.deps import end_read, read_only
from app.tables import Branch


def _branch_count(engine: Engine) -> int:
    with session_scope(engine) as session:
        return int(session.execute(select(func.count()).select_from(Branch)).scalar_one())


def test_after_a_read_only_request_a_failed_write_still_rolls_back(
    engine: Engine, branch_ids: dict[str, int]
) -> None:
    before = _branch_count(engine)
    with session_scope(engine) as session:
        read_only(session)
        assert session.execute(select(func.count()).select_from(Branch)).scalar_one() == before
        end_read(session)
    # The same pooled connection (only one was ever opened by this engine's reads) serves a
    # write that fails half-way: nothing of it may remain.
    with pytest.raises(RuntimeError, match="half-way"):
        _rename_then_fail(engine, branch_ids["SZ-FT"])
    with session_scope(engine) as session:
        name = session.execute(
            select(Branch.name).where(Branch.id == branch_ids["SZ-FT"])
        ).scalar_one()
    assert not name.endswith("!")
    assert _branch_count(engine) == before


def _rename_then_fail(engine: Engine, branch_id: int) -> None:
    with session_scope(engine) as session:
        session.execute(
            text("UPDATE branch SET name = name || '!' WHERE id = :id"), {"id": branch_id}
        )
        raise RuntimeError("the write fails half-way")


def test_a_read_only_session_sends_no_transaction_on_postgresql(
    engine: Engine, branch_ids: dict[str, int]
) -> None:
    with session_scope(engine) as session:
        read_only(session)
        session.execute(select(func.count()).select_from(Branch)).scalar_one()
        dbapi = session.connection().connection.dbapi_connection
        assert dbapi is not None
        if engine.dialect.name == "postgresql":
            # Idle: the statement ran on its own, no BEGIN is pending a COMMIT.
            assert dbapi.info.transaction_status.name == "IDLE"  # type: ignore[attr-defined]
        end_read(session)

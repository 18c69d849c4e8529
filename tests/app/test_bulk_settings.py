"""`settle_in_for_bulk`, `no_jit`, `room_to_join`: a bulk transaction's memory and JIT settings
hold for that transaction (or statement) only; the pooled connection serves the next request
with the server's own settings."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine

from app.bulk import no_jit, room_to_join, settle_in_for_bulk
from app.config import Settings, get_settings
from app.db import session_scope


def _setting(engine: Engine, name: str) -> str:
    with session_scope(engine) as session:
        return str(session.execute(text(f"SHOW {name}")).scalar_one())


@pytest.fixture
def server_default(engine: Engine) -> str:
    """The server's own work_mem, as any new transaction sees it (PostgreSQL only)."""
    if engine.dialect.name != "postgresql":
        pytest.skip("SQLite has no work_mem nor JIT")
    return _setting(engine, "work_mem")


def test_bulk_settings_last_one_transaction(engine: Engine, server_default: str) -> None:
    with session_scope(engine) as session:
        settle_in_for_bulk(session)
        inside = str(session.execute(text("SHOW work_mem")).scalar_one())
        jit = str(session.execute(text("SHOW jit")).scalar_one())
    assert inside == f"{get_settings().bulk_work_mem_mb}MB"
    assert jit == "off"
    assert _setting(engine, "work_mem") == server_default


def test_a_failed_bulk_transaction_leaves_no_setting_behind(
    engine: Engine, server_default: str
) -> None:
    with pytest.raises(RuntimeError, match="half-way"):
        _settle_in_then_fail(engine)
    assert _setting(engine, "work_mem") == server_default


def test_room_to_join_lasts_its_statements_only(engine: Engine, server_default: str) -> None:
    with session_scope(engine) as session:
        no_jit(session)
        with room_to_join(session):
            inside = str(session.execute(text("SHOW work_mem")).scalar_one())
        after = str(session.execute(text("SHOW work_mem")).scalar_one())
        jit = str(session.execute(text("SHOW jit")).scalar_one())
    assert inside == f"{get_settings().bulk_work_mem_mb}MB"
    assert after == server_default
    assert jit == "off"
    assert _setting(engine, "jit") == "on"


def _settle_in_then_fail(engine: Engine) -> None:
    with session_scope(engine) as session:
        settle_in_for_bulk(session)
        raise RuntimeError("the import fails half-way")


def test_the_earlier_name_of_the_setting_is_still_read(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("O2O_IMPORT_WORK_MEM_MB", "64")
    assert Settings(_env_file=None).bulk_work_mem_mb == 64  # type: ignore[call-arg]
    monkeypatch.setenv("O2O_BULK_WORK_MEM_MB", "128")
    monkeypatch.delenv("O2O_IMPORT_WORK_MEM_MB")
    assert Settings(_env_file=None).bulk_work_mem_mb == 128  # type: ignore[call-arg]


def test_bulk_work_mem_is_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("O2O_BULK_WORK_MEM_MB", "2")
    with pytest.raises(ValueError, match="bulk_work_mem_mb"):
        Settings(_env_file=None)  # type: ignore[call-arg]

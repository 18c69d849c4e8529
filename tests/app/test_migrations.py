"""The migrations build exactly the schema the models describe, both ways, on both databases."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect
from sqlmodel import SQLModel

import app.tables  # noqa: F401
from app.config import Settings
from app.db import make_engine
from app.migrations import downgrade, include_object, upgrade


def _schema_diff(settings: Settings) -> list[object]:
    engine = make_engine(settings)
    with engine.connect() as conn:
        context = MigrationContext.configure(
            conn, opts={"compare_type": True, "include_object": include_object}
        )
        diff = compare_metadata(context, SQLModel.metadata)
    engine.dispose()
    return list(diff)


def test_upgrade_downgrade_upgrade_leaves_no_difference_from_the_models(settings: Settings) -> None:
    engine = make_engine(settings)
    downgrade(engine, "base")
    assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
    upgrade(engine, "head")
    engine.dispose()
    assert _schema_diff(settings) == []


def test_sqlite_connections_enforce_foreign_keys_and_use_wal(settings: Settings) -> None:
    engine = make_engine(settings)
    if engine.dialect.name != "sqlite":
        return
    with engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert (
            conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == settings.sqlite_busy_timeout_ms
        )

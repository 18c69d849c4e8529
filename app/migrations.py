"""Run Alembic from code (the `o2o db upgrade` command and the tests)."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy.engine import Engine

REPO_ROOT = Path(__file__).resolve().parent.parent

# Expression and partial indexes that back database-enforced rules; the migrations create them
# by hand because the models cannot express them, so autogenerate must not try to drop them.
HAND_MANAGED_INDEXES = frozenset({"uq_ownership_one_open_owner", "ix_ownership_owner_key"})


def include_object(
    obj: object, name: str | None, type_: str, reflected: bool, compare_to: object
) -> bool:
    return not (type_ == "index" and name in HAND_MANAGED_INDEXES)


def alembic_config(engine: Engine | None = None) -> Config:
    config = Config(str(REPO_ROOT / "alembic.ini"))
    config.set_main_option("script_location", str(REPO_ROOT / "alembic"))
    if engine is not None:
        config.attributes["engine"] = engine
    return config


def upgrade(engine: Engine, revision: str = "head") -> None:
    _run(engine, lambda cfg: command.upgrade(cfg, revision))


def downgrade(engine: Engine, revision: str = "base") -> None:
    _run(engine, lambda cfg: command.downgrade(cfg, revision))


def _run(engine: Engine, action: object) -> None:
    config = alembic_config()
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        action(config)  # type: ignore[operator]

"""Run Alembic from code (the `o2o db upgrade` command and the tests)."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy.engine import Engine

REPO_ROOT = Path(__file__).resolve().parent.parent

# Expression and partial indexes that back database-enforced rules; the migrations create them
# by hand because the models cannot express them, so autogenerate must not try to drop them.
HAND_MANAGED_INDEXES = frozenset(
    {
        "uq_ownership_one_open_owner",
        "ix_ownership_owner_key",
        "ix_journal_posting_branch_account",
        "ix_journal_entry_event_id",
        "ix_journal_posting_suspense",
        # Unique over non-NULL values only on PostgreSQL (migration 0023).
        "uq_journal_entry_reverses",
        # Partial indexes over the credit rows (migration 0031).
        "ix_revenue_event_credit_period",
        "ix_revenue_event_credit_suspense",
    }
)
# Constraints the models declare for SQLite's foreign keys; PostgreSQL, which checks those
# references another way, drops them (migration 0009); ``reverses`` is unique there through a
# partial index, which skips the NULLs of every credit (migration 0023).
SQLITE_ONLY_CONSTRAINTS = frozenset(
    {"uq_journal_entry_id_posting_count", "uq_journal_entry_reverses"}
)

# Foreign keys that PostgreSQL checks once per statement instead of once per row (migration
# 0005): the models declare them, SQLite has them, PostgreSQL has triggers in their place.
STATEMENT_CHECKED_FOREIGN_KEYS = frozenset(
    {
        "fk_round_assignment_round_id_allocation_round",
        "fk_round_assignment_lead_id_lead",
        "fk_round_assignment_branch_id_branch",
        "fk_ownership_lead_id_lead",
        "fk_ownership_customer_id_customer",
        "fk_ownership_branch_id_branch",
        "fk_lead_customer_id_customer",
        "fk_revenue_event_lead_id_lead",
        "fk_journal_entry_event_id_revenue_event",
        "fk_journal_entry_reverses_journal_entry",  # migration 0023
        "fk_lead_branch_id_branch",  # migration 0029
        "fk_lead_returned_by_branch_id_branch",
        # Deferred to COMMIT; checked once per statement's id range (migration 0006).
        "fk_journal_posting_entry_id_journal_entry",
        "fk_revenue_event_batch_id_revenue_batch",
    }
)
# Columns the models require that SQLite leaves nullable and guards by a trigger instead: it
# cannot rebuild `lead` in a migration's transaction while other tables refer to it (0024), and
# the customer of a round's assignment is checked against its lead's by a trigger there (0039).
SQLITE_TRIGGER_NOT_NULL = frozenset({("lead", "customer_id"), ("round_assignment", "customer_id")})
# Tables that only PostgreSQL has, created by hand in a migration (no model).
HAND_MANAGED_TABLES = frozenset({"ledger_pending_check"})
# The job queue's own tables on PostgreSQL (huey creates them: o2o_queue_task, ...).
QUEUE_TABLE_PREFIX = "o2o_queue"


def include_object(
    obj: object, name: str | None, type_: str, reflected: bool, compare_to: object
) -> bool:
    if type_ == "index":
        return name not in HAND_MANAGED_INDEXES
    if type_ == "unique_constraint" and name in SQLITE_ONLY_CONSTRAINTS:
        return False
    if type_ == "foreign_key_constraint":
        return name not in STATEMENT_CHECKED_FOREIGN_KEYS
    if type_ == "table":
        return name not in HAND_MANAGED_TABLES and not (name or "").startswith(QUEUE_TABLE_PREFIX)
    return True


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

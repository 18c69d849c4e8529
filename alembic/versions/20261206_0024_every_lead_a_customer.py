"""every lead has a customer: the owner key is the plain column customer_id

Revision ID: 0024
Revises: 0018
Create Date: 2026-12-06

A lead without a mobile number used to have no customer, and every per-customer rule keyed on
``COALESCE(customer_id, -lead_id)``. An expression over two columns cannot be a distribution
key (docs/scale-out.md: the tables shard by customer), so each such lead now gets a customer of
its own, keyed ``solo:`` + a hash of (channel, external_id): deterministic, so a re-import
finds it again, and never equal to a keyed mobile hash (64 hex digits, no colon), so it never
links two people. Then ``customer_id`` is required on ``lead`` and ``ownership`` and the
owner guards (one open owner, no overlapping intervals) key on the column.

PostgreSQL sets NOT NULL in place. SQLite rebuilds ``ownership`` (nothing refers to it) and
creates its overlap triggers again; it cannot rebuild ``lead`` inside the migration's
transaction while other tables refer to it (the foreign-key switch is ignored in a
transaction), so there a trigger refuses a lead without a customer instead
(``app.migrations.SQLITE_TRIGGER_NOT_NULL``).
"""

import hashlib
from collections.abc import Sequence
from datetime import datetime

import sqlalchemy as sa
from alembic import op

revision: str = "0024"
down_revision: str | None = "0018"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_OLD_KEY = "COALESCE(customer_id, -lead_id)"
_NEW_KEY = "customer_id"
_FIXED_CUSTOMER_OLD = (
    "WHEN (OLD.customer_id IS NOT NULL AND OLD.customer_id <> NEW.customer_id "
    "OR (OLD.customer_id IS NULL) <> (NEW.customer_id IS NULL)) "
)
_FIXED_CUSTOMER_NEW = "WHEN (OLD.customer_id IS DISTINCT FROM NEW.customer_id) "


def solo_customer_key(channel: str, external_id: str) -> str:
    """Frozen copy of app.leads.rows.solo_customer_key (a migration never imports the app)."""
    digest = hashlib.sha256(f"{channel}\x1f{external_id}".encode()).hexdigest()
    return "solo:" + digest[:59]


def upgrade() -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    _drop_fixed_customer(sqlite)
    _give_every_lead_a_customer()
    if sqlite:
        _sqlite_require_customer()
    else:
        op.alter_column("lead", "customer_id", existing_type=sa.BigInteger(), nullable=False)
        op.alter_column("ownership", "customer_id", existing_type=sa.BigInteger(), nullable=False)
        _pg_owner_guards(_NEW_KEY)
    _create_fixed_customer(sqlite, _FIXED_CUSTOMER_NEW)


def downgrade() -> None:
    """The solo customers stay (a customer of one lead is valid below 0024 too)."""
    sqlite = op.get_bind().dialect.name == "sqlite"
    _drop_fixed_customer(sqlite)
    if sqlite:
        op.execute("DROP TRIGGER IF EXISTS lead_has_customer_insert")
        op.execute("DROP TRIGGER IF EXISTS lead_has_customer_update")
        _sqlite_rebuild_ownership(nullable=True, key=_OLD_KEY)
    else:
        op.alter_column("ownership", "customer_id", existing_type=sa.BigInteger(), nullable=True)
        op.alter_column("lead", "customer_id", existing_type=sa.BigInteger(), nullable=True)
        _pg_owner_guards(_OLD_KEY)
    _create_fixed_customer(sqlite, _FIXED_CUSTOMER_OLD)


def _give_every_lead_a_customer() -> None:
    bind = op.get_bind()
    solo = bind.execute(
        sa.text("SELECT id, channel, external_id, created_at FROM lead WHERE customer_id IS NULL")
    ).all()
    if not solo:
        return
    keys = {lead_id: solo_customer_key(channel, ext) for lead_id, channel, ext, _ in solo}
    customer = sa.table(
        "customer", sa.column("customer_key", sa.String), sa.column("created_at", sa.DateTime)
    )
    op.bulk_insert(
        customer,
        [{"customer_key": keys[row[0]], "created_at": _instant(row[3])} for row in solo],
    )
    ids = dict(
        bind.execute(
            sa.text("SELECT customer_key, id FROM customer WHERE customer_key LIKE 'solo:%'")
        ).all()
    )
    bind.execute(
        sa.text("UPDATE lead SET customer_id = :customer WHERE id = :lead"),
        [{"customer": ids[key], "lead": lead_id} for lead_id, key in keys.items()],
    )
    op.execute(
        "UPDATE ownership SET customer_id = "
        "(SELECT l.customer_id FROM lead l WHERE l.id = ownership.lead_id) "
        "WHERE customer_id IS NULL"
    )


def _instant(value: object) -> object:
    # SQLite hands back the stored text; the bulk insert wants what the column stores.
    return datetime.fromisoformat(value) if isinstance(value, str) else value


def _drop_fixed_customer(sqlite: bool) -> None:
    op.execute("DROP TRIGGER IF EXISTS lead_customer_fixed" + ("" if sqlite else " ON lead"))


def _create_fixed_customer(sqlite: bool, condition: str) -> None:
    head = "CREATE TRIGGER lead_customer_fixed BEFORE UPDATE OF customer_id ON lead FOR EACH ROW "
    if sqlite:
        condition = condition.replace("IS DISTINCT FROM", "IS NOT")
        op.execute(head + condition + "BEGIN SELECT RAISE(ABORT, 'a lead keeps its customer'); END")
    else:
        op.execute(head + condition + "EXECUTE FUNCTION lead_refuse_customer_change()")


def _sqlite_require_customer() -> None:
    for event in ("INSERT", "UPDATE"):
        of = " OF customer_id" if event == "UPDATE" else ""
        op.execute(
            f"CREATE TRIGGER lead_has_customer_{event.lower()} BEFORE {event}{of} ON lead "
            "WHEN NEW.customer_id IS NULL "
            "BEGIN SELECT RAISE(ABORT, 'NOT NULL constraint failed: lead.customer_id'); END"
        )
    _sqlite_rebuild_ownership(nullable=False, key=_NEW_KEY)


def _sqlite_rebuild_ownership(*, nullable: bool, key: str) -> None:
    """Migration 0001's SQLite guards, keyed by `key`; the rebuild drops them."""
    for event in ("insert", "update"):
        op.execute(f"DROP TRIGGER IF EXISTS ownership_no_overlap_{event}")
    op.execute("DROP INDEX IF EXISTS ix_ownership_owner_key")
    op.execute("DROP INDEX IF EXISTS uq_ownership_one_open_owner")
    with op.batch_alter_table("ownership", recreate="always") as batch_op:
        batch_op.alter_column("customer_id", existing_type=sa.BigInteger(), nullable=nullable)
    if key == _OLD_KEY:
        op.execute(f"CREATE INDEX ix_ownership_owner_key ON ownership ({key}, valid_from)")
    else:  # the column's own index (customer_id, valid_from) serves the trigger's lookup
        op.execute(
            "CREATE UNIQUE INDEX uq_ownership_one_open_owner ON ownership (customer_id) "
            "WHERE valid_to IS NULL"
        )
    new_key = key.replace("customer_id", "NEW.customer_id").replace("lead_id", "NEW.lead_id")
    old_key = key.replace("customer_id", "o.customer_id").replace("lead_id", "o.lead_id")
    for event in ("INSERT", "UPDATE"):
        op.execute(
            f"CREATE TRIGGER ownership_no_overlap_{event.lower()} BEFORE {event} ON ownership "
            "BEGIN SELECT RAISE(ABORT, 'ownership intervals of one customer may not overlap') "
            f"WHERE EXISTS (SELECT 1 FROM ownership o WHERE {old_key} = {new_key} "
            "AND o.id IS NOT NEW.id "
            "AND (o.valid_to IS NULL OR o.valid_to > NEW.valid_from) "
            "AND (NEW.valid_to IS NULL OR NEW.valid_to > o.valid_from)); END"
        )


def _pg_owner_guards(key: str) -> None:
    """The one-open-owner index and the overlap check of migration 0001, keyed by `key`."""
    op.execute("DROP INDEX IF EXISTS uq_ownership_one_open_owner")
    op.execute("DROP INDEX IF EXISTS ix_ownership_owner_key")
    op.execute(
        f"CREATE UNIQUE INDEX uq_ownership_one_open_owner ON ownership (({key})) "
        "WHERE valid_to IS NULL"
    )
    if key == _OLD_KEY:  # with the plain column, ix_ownership_customer_valid_from serves
        op.execute(f"CREATE INDEX ix_ownership_owner_key ON ownership (({key}), valid_from)")
    n_key = key.replace("customer_id", "n.customer_id").replace("lead_id", "n.lead_id")
    o_key = key.replace("customer_id", "o.customer_id").replace("lead_id", "o.lead_id")
    op.execute(
        f"""
CREATE OR REPLACE FUNCTION ownership_refuse_overlap() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF EXISTS (
        SELECT 1 FROM changed n JOIN ownership o
          ON {o_key} = {n_key}
         AND o.id <> n.id
         AND o.valid_from < COALESCE(n.valid_to, 'infinity')
         AND n.valid_from < COALESCE(o.valid_to, 'infinity')
    ) THEN
        RAISE EXCEPTION 'ownership intervals of one customer may not overlap'
            USING ERRCODE = 'exclusion_violation';
    END IF;
    RETURN NULL;
END $$"""
    )

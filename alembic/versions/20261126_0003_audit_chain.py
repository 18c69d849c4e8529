"""audit: tamper-evident hash chain over the audit log

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-26

``audit_seal`` holds one hash-chain link per sealed audit record and ``audit_seal_mark``
the points up to which sealing is safe (see app/audit_chain.py). Both are append-only by
trigger, like ``audit_log``.

On PostgreSQL an audit record's id is drawn by a BEFORE INSERT trigger *after* its
transaction has a transaction id (the column default, evaluated first, is discarded).
That ordering is what makes a seal mark sound: every id handed out before a mark belongs
to a transaction whose id is below the mark's ``xid_bound``, so once no such transaction
is running, no record below the mark can still appear.
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_TABLES = ("audit_seal", "audit_seal_mark")
_PG_ID_AFTER_XID = """
CREATE FUNCTION audit_log_id_after_xid() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_current_xact_id();
    NEW.id := nextval(pg_get_serial_sequence('audit_log', 'id'));
    RETURN NEW;
END $$
"""


def upgrade() -> None:
    op.create_table(
        "audit_seal",
        sa.Column("audit_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("hash", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("sealed_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("audit_id", name=op.f("pk_audit_seal")),
    )
    op.create_table(
        "audit_seal_mark",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("upto_id", sa.BigInteger(), nullable=False),
        sa.Column("xid_bound", sa.BigInteger(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_seal_mark")),
    )
    if op.get_bind().dialect.name == "sqlite":
        _sqlite_guards()
    else:
        _postgres_guards()


def _sqlite_guards() -> None:
    for table in _TABLES:
        for event in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER {table}_append_only_{event.lower()} BEFORE {event} ON {table} "
                f"BEGIN SELECT RAISE(ABORT, '{table} is append-only'); END"
            )


def _postgres_guards() -> None:
    op.execute(
        "CREATE FUNCTION audit_seal_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$ "
        "BEGIN RAISE EXCEPTION '% is append-only', TG_TABLE_NAME; END $$"
    )
    for table in _TABLES:
        op.execute(
            f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE OR TRUNCATE ON {table} "
            "FOR EACH STATEMENT EXECUTE FUNCTION audit_seal_refuse_change()"
        )
    op.execute(_PG_ID_AFTER_XID)
    op.execute(
        "CREATE TRIGGER audit_log_id_after_xid BEFORE INSERT ON audit_log "
        "FOR EACH ROW EXECUTE FUNCTION audit_log_id_after_xid()"
    )


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for table in _TABLES:
            for event in ("update", "delete"):
                op.execute(f"DROP TRIGGER IF EXISTS {table}_append_only_{event}")
    else:
        op.execute("DROP TRIGGER IF EXISTS audit_log_id_after_xid ON audit_log")
        op.execute("DROP FUNCTION IF EXISTS audit_log_id_after_xid()")
        for table in _TABLES:
            op.execute(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}")
        op.execute("DROP FUNCTION IF EXISTS audit_seal_refuse_change()")
    op.drop_table("audit_seal_mark")
    op.drop_table("audit_seal")

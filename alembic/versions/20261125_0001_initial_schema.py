"""initial schema

Revision ID: 0001
Revises:
Create Date: 2026-11-25 21:23:11.601955
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "audit_log",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("action", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("entity_type", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("entity_id", sqlmodel.sql.sqltypes.AutoString(length=128), nullable=True),
        sa.Column("request_id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_log")),
    )
    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_audit_log_action"), ["action"], unique=False)

    op.create_table(
        "branch",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("lat", sa.Float(), nullable=False),
        sa.Column("lon", sa.Float(), nullable=False),
        sa.Column("region_code", sqlmodel.sql.sqltypes.AutoString(length=6), nullable=True),
        sa.Column("capacity", sa.Integer(), nullable=False),
        sa.Column("tiers", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("capacity >= 0", name=op.f("ck_branch_capacity_non_negative")),
        sa.CheckConstraint(
            "lat BETWEEN -90 AND 90 AND lon BETWEEN -180 AND 180",
            name=op.f("ck_branch_lat_lon_range"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_branch")),
        sa.UniqueConstraint("code", name=op.f("uq_branch_code")),
    )
    op.create_table(
        "customer",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("customer_key", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_customer")),
        sa.UniqueConstraint("customer_key", name=op.f("uq_customer_customer_key")),
    )
    op.create_table(
        "app_user",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("username", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("password_hash", sqlmodel.sql.sqltypes.AutoString(length=255), nullable=False),
        sa.Column("role", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("branch_id", sa.Integer(), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("security_stamp", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "(role = 'branch') = (branch_id IS NOT NULL)",
            name=op.f("ck_app_user_branch_iff_branch_role"),
        ),
        sa.CheckConstraint(
            "role IN ('hq', 'branch', 'finance', 'auditor')", name=op.f("ck_app_user_role_known")
        ),
        sa.ForeignKeyConstraint(
            ["branch_id"], ["branch.id"], name=op.f("fk_app_user_branch_id_branch")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_app_user")),
        sa.UniqueConstraint("username", name=op.f("uq_app_user_username")),
    )
    op.create_table(
        "lead",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("channel", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("external_id", sqlmodel.sql.sqltypes.AutoString(length=128), nullable=False),
        sa.Column(
            "customer_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
        sa.Column("mobile", sqlmodel.sql.sqltypes.AutoString(length=11), nullable=True),
        sa.Column("tier", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("lat", sa.Float(), nullable=True),
        sa.Column("lon", sa.Float(), nullable=True),
        sa.Column("region_code", sqlmodel.sql.sqltypes.AutoString(length=6), nullable=True),
        sa.Column("location_source", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=True),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("branch_id", sa.Integer(), nullable=True),
        sa.Column("returned_by_branch_id", sa.Integer(), nullable=True),
        sa.Column("return_reason", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=True),
        sa.Column("assigned_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("contacted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("acquired_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "location_source IS NULL OR location_source IN ('coordinates', 'region_code', 'mobile_prefix', 'id_card', 'address')",
            name=op.f("ck_lead_location_source_known"),
        ),
        sa.CheckConstraint(
            "status IN ('new', 'assigned', 'contacted', 'converted', 'returned', 'reclaimed')",
            name=op.f("ck_lead_status_known"),
        ),
        sa.CheckConstraint("(lat IS NULL) = (lon IS NULL)", name=op.f("ck_lead_lat_lon_together")),
        sa.ForeignKeyConstraint(
            ["branch_id"], ["branch.id"], name=op.f("fk_lead_branch_id_branch")
        ),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customer.id"], name=op.f("fk_lead_customer_id_customer")
        ),
        sa.ForeignKeyConstraint(
            ["returned_by_branch_id"],
            ["branch.id"],
            name=op.f("fk_lead_returned_by_branch_id_branch"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_lead")),
        sa.UniqueConstraint("channel", "external_id", name=op.f("uq_lead_channel_external_id")),
    )
    with op.batch_alter_table("lead", schema=None) as batch_op:
        batch_op.create_index(
            "ix_lead_branch_status_acquired", ["branch_id", "status", "acquired_at"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_lead_customer_id"), ["customer_id"], unique=False)
        batch_op.create_index("ix_lead_status", ["status"], unique=False)

    op.create_table(
        "ownership",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("lead_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "customer_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.Column("branch_id", sa.Integer(), nullable=False),
        sa.Column("valid_from", sa.DateTime(timezone=True), nullable=False),
        sa.Column("valid_to", sa.DateTime(timezone=True), nullable=True),
        sa.Column("opened_by", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("round_id", sa.Integer(), nullable=True),
        sa.Column("close_reason", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=True),
        sa.CheckConstraint(
            "close_reason IS NULL OR close_reason IN ('returned', 'reclaimed', 'transferred', 'repooled')",
            name=op.f("ck_ownership_close_reason_known"),
        ),
        sa.CheckConstraint(
            "opened_by IN ('round', 'transfer', 'linked')",
            name=op.f("ck_ownership_opened_by_known"),
        ),
        sa.CheckConstraint(
            "(valid_to IS NULL) = (close_reason IS NULL)",
            name=op.f("ck_ownership_closed_with_reason"),
        ),
        sa.CheckConstraint(
            "valid_to IS NULL OR valid_to > valid_from",
            name=op.f("ck_ownership_interval_not_empty"),
        ),
        sa.ForeignKeyConstraint(
            ["branch_id"], ["branch.id"], name=op.f("fk_ownership_branch_id_branch")
        ),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customer.id"], name=op.f("fk_ownership_customer_id_customer")
        ),
        sa.ForeignKeyConstraint(["lead_id"], ["lead.id"], name=op.f("fk_ownership_lead_id_lead")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ownership")),
    )
    with op.batch_alter_table("ownership", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_ownership_branch_id"), ["branch_id"], unique=False)
        batch_op.create_index(
            "ix_ownership_customer_valid_from", ["customer_id", "valid_from"], unique=False
        )
        batch_op.create_index(
            "ix_ownership_lead_valid_from", ["lead_id", "valid_from"], unique=False
        )

    op.create_table(
        "allocation_round",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("method", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("balance_weight", sa.Float(), nullable=False),
        sa.Column("max_distance_km", sa.Float(), nullable=True),
        sa.Column("solver_status", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=True),
        sa.Column("pool_size", sa.Integer(), nullable=False),
        sa.Column("assigned", sa.Integer(), nullable=False),
        sa.Column("unassigned", sa.Integer(), nullable=False),
        sa.Column("objective", sa.Float(), nullable=True),
        sa.Column("lower_bound", sa.Float(), nullable=True),
        sa.Column("gap", sa.Float(), nullable=True),
        sa.Column("solve_seconds", sa.Float(), nullable=True),
        sa.Column("report", sa.Text(), nullable=False),
        sa.Column("instance", sa.Text(), nullable=False),
        sa.Column("created_by", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("committed_by", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        sa.Column("committed_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "status IN ('draft', 'solved', 'committed', 'cancelled')",
            name=op.f("ck_allocation_round_status_known"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_allocation_round")),
    )
    with op.batch_alter_table("allocation_round", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_allocation_round_status"), ["status"], unique=False)
    op.create_table(
        "round_assignment",
        sa.Column("round_id", sa.Integer(), nullable=False),
        sa.Column("lead_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("branch_id", sa.Integer(), nullable=True),
        sa.Column("distance_km", sa.Float(), nullable=True),
        sa.Column("cost", sa.Float(), nullable=True),
        sa.Column("reason", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
        sa.Column("explanation", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column(
            "follows_lead_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.Column("lead_class", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=True),
        sa.ForeignKeyConstraint(
            ["branch_id"], ["branch.id"], name=op.f("fk_round_assignment_branch_id_branch")
        ),
        sa.ForeignKeyConstraint(
            ["lead_id"], ["lead.id"], name=op.f("fk_round_assignment_lead_id_lead")
        ),
        sa.ForeignKeyConstraint(
            ["round_id"],
            ["allocation_round.id"],
            name=op.f("fk_round_assignment_round_id_allocation_round"),
        ),
        sa.PrimaryKeyConstraint("round_id", "lead_id", name=op.f("pk_round_assignment")),
    )
    op.create_table(
        "round_lock",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("holder", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        sa.Column("acquired_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_round_lock")),
    )
    op.execute("INSERT INTO round_lock (id) VALUES (1)")
    _create_guards()


# A customer (or, without a mobile number, the lead itself) has at most one owner at any instant.
_OWNER_KEY = "COALESCE(customer_id, -lead_id)"
_SQLITE_OVERLAP = """
    SELECT RAISE(ABORT, 'ownership intervals of one customer may not overlap')
    WHERE EXISTS (
        SELECT 1 FROM ownership o
        WHERE COALESCE(o.customer_id, -o.lead_id) = COALESCE(NEW.customer_id, -NEW.lead_id)
          AND o.id IS NOT NEW.id
          AND (o.valid_to IS NULL OR o.valid_to > NEW.valid_from)
          AND (NEW.valid_to IS NULL OR NEW.valid_to > o.valid_from)
    );
"""


_PG_OVERLAP_FUNCTION = """
CREATE FUNCTION ownership_refuse_overlap() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF EXISTS (
        SELECT 1 FROM changed n JOIN ownership o
          ON COALESCE(o.customer_id, -o.lead_id) = COALESCE(n.customer_id, -n.lead_id)
         AND o.id <> n.id
         AND o.valid_from < COALESCE(n.valid_to, 'infinity')
         AND n.valid_from < COALESCE(o.valid_to, 'infinity')
    ) THEN
        RAISE EXCEPTION 'ownership intervals of one customer may not overlap'
            USING ERRCODE = 'exclusion_violation';
    END IF;
    RETURN NULL;
END $$
"""


def _create_guards() -> None:
    """Database-enforced rules that no model can express: overlap and append-only."""
    if op.get_bind().dialect.name == "sqlite":
        # The overlap trigger looks intervals up by owner key; without this it scans the table.
        op.execute(f"CREATE INDEX ix_ownership_owner_key ON ownership ({_OWNER_KEY}, valid_from)")
        for event in ("INSERT", "UPDATE"):
            op.execute(
                f"CREATE TRIGGER ownership_no_overlap_{event.lower()} BEFORE {event} ON ownership "
                f"BEGIN {_SQLITE_OVERLAP} END"
            )
        for event in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER audit_log_append_only_{event.lower()} BEFORE {event} ON audit_log "
                "BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END"
            )
        return
    # A GiST exclusion constraint costs ~70 us per inserted row (90 s for a 1.3M-lead round);
    # a statement-level check over the inserted rows is set-based, and the partial unique
    # index settles concurrent writers (at most one open interval per customer).
    op.execute(
        f"CREATE UNIQUE INDEX uq_ownership_one_open_owner ON ownership (({_OWNER_KEY})) "
        "WHERE valid_to IS NULL"
    )
    op.execute(f"CREATE INDEX ix_ownership_owner_key ON ownership (({_OWNER_KEY}), valid_from)")
    op.execute(_PG_OVERLAP_FUNCTION)
    for event in ("INSERT", "UPDATE"):
        op.execute(
            f"CREATE TRIGGER ownership_no_overlap_{event.lower()} AFTER {event} ON ownership "
            "REFERENCING NEW TABLE AS changed FOR EACH STATEMENT "
            "EXECUTE FUNCTION ownership_refuse_overlap()"
        )
    op.execute(
        "CREATE FUNCTION audit_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$ "
        "BEGIN RAISE EXCEPTION 'audit_log is append-only'; END $$"
    )
    op.execute(
        "CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE OR TRUNCATE ON audit_log "
        "FOR EACH STATEMENT EXECUTE FUNCTION audit_refuse_change()"
    )


def _drop_guards() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for name in (
            "ownership_no_overlap_insert",
            "ownership_no_overlap_update",
            "audit_log_append_only_update",
            "audit_log_append_only_delete",
        ):
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
        op.execute("DROP INDEX IF EXISTS ix_ownership_owner_key")
        return
    op.execute("DROP TRIGGER IF EXISTS audit_log_append_only ON audit_log")
    op.execute("DROP FUNCTION IF EXISTS audit_refuse_change()")
    for event in ("insert", "update"):
        op.execute(f"DROP TRIGGER IF EXISTS ownership_no_overlap_{event} ON ownership")
    op.execute("DROP FUNCTION IF EXISTS ownership_refuse_overlap()")
    op.execute("DROP INDEX IF EXISTS ix_ownership_owner_key")
    op.execute("DROP INDEX IF EXISTS uq_ownership_one_open_owner")


def downgrade() -> None:
    _drop_guards()
    op.drop_table("round_lock")
    op.drop_table("round_assignment")
    with op.batch_alter_table("allocation_round", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_allocation_round_status"))
    op.drop_table("allocation_round")
    with op.batch_alter_table("ownership", schema=None) as batch_op:
        batch_op.drop_index("ix_ownership_lead_valid_from")
        batch_op.drop_index("ix_ownership_customer_valid_from")
        batch_op.drop_index(batch_op.f("ix_ownership_branch_id"))

    op.drop_table("ownership")
    with op.batch_alter_table("lead", schema=None) as batch_op:
        batch_op.drop_index("ix_lead_status")
        batch_op.drop_index(batch_op.f("ix_lead_customer_id"))
        batch_op.drop_index("ix_lead_branch_status_acquired")

    op.drop_table("lead")
    op.drop_table("app_user")
    op.drop_table("customer")
    op.drop_table("branch")
    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_audit_log_action"))

    op.drop_table("audit_log")

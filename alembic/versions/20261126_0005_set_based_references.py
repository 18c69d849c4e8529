"""rounds at scale: set-based reference checks, history never deleted, fewer lead indexes

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-26

A round commit writes about as many rows as there are pooled leads (1.3 million at the
largest brokerage). Measured on PostgreSQL 15 with 300,000 rows, the per-row foreign-key
triggers took 85% of inserting a round's assignments (3.3 of 3.9 s) and half of opening its
ownership intervals; one anti-join over the statement's rows checks the same references in
0.5 s. So, on PostgreSQL only:

* the foreign keys of ``round_assignment`` and ``ownership`` become statement-level checks
  over the inserted or updated rows, and so do, on insert, ``lead.customer_id`` (a lead's
  customer never changes afterwards: refused on both databases), ``revenue_event.lead_id``
  and ``journal_entry.event_id`` (append-only tables, 400,000 per-row checks per 200,000
  imported revenue events). The models still declare
  them, SQLite keeps them, and ``app.migrations.STATEMENT_CHECKED_FOREIGN_KEYS`` tells
  autogenerate;
* what they point at is history and is never deleted: DELETE and TRUNCATE of leads,
  customers, branches and rounds, and changing their ids, are refused (on SQLite too). That
  rule is also what makes the unlocked checks safe: a foreign key locks the parent row so a
  concurrent delete cannot orphan the child; here no delete can happen at all.

On both databases ``ix_lead_status`` and ``ix_ownership_branch_id`` go: every index on
``lead`` is rewritten for each lead a round assigns, and the pool query reads most of the
table anyway (a sequential scan); no query looks ownership up by branch.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# child table -> [(column, parent table, parent column, foreign key name)]
CHECKED_REFERENCES = {
    "round_assignment": [
        ("round_id", "allocation_round", "id", "fk_round_assignment_round_id_allocation_round"),
        ("lead_id", "lead", "id", "fk_round_assignment_lead_id_lead"),
        ("branch_id", "branch", "id", "fk_round_assignment_branch_id_branch"),
    ],
    "ownership": [
        ("lead_id", "lead", "id", "fk_ownership_lead_id_lead"),
        ("customer_id", "customer", "id", "fk_ownership_customer_id_customer"),
        ("branch_id", "branch", "id", "fk_ownership_branch_id_branch"),
    ],
}
# Checked on insert only: every update of a lead would otherwise copy it into a transition table.
# Revenue events and journal entries are append-only (never updated), so insert is all there is.
INSERT_CHECKED_REFERENCES = {
    "lead": [("customer_id", "customer", "id", "fk_lead_customer_id_customer")],
    "revenue_event": [("lead_id", "lead", "id", "fk_revenue_event_lead_id_lead")],
    "journal_entry": [
        ("event_id", "revenue_event", "event_id", "fk_journal_entry_event_id_revenue_event")
    ],
}
NEVER_DELETED = ("lead", "customer", "branch", "allocation_round")
FIXED_CUSTOMER = (
    "CREATE TRIGGER lead_customer_fixed BEFORE UPDATE OF customer_id ON lead FOR EACH ROW "
    "WHEN (OLD.customer_id IS NOT NULL AND OLD.customer_id <> NEW.customer_id "
    "OR (OLD.customer_id IS NULL) <> (NEW.customer_id IS NULL)) "
)


def upgrade() -> None:
    op.drop_index("ix_lead_status", table_name="lead")
    op.drop_index("ix_ownership_branch_id", table_name="ownership")
    if op.get_bind().dialect.name == "sqlite":
        for table in NEVER_DELETED:
            _sqlite_never_deleted(table)
        op.execute(FIXED_CUSTOMER + "BEGIN SELECT RAISE(ABORT, 'a lead keeps its customer'); END")
        return
    for events, checked in (
        (("INSERT", "UPDATE"), CHECKED_REFERENCES),
        (("INSERT",), INSERT_CHECKED_REFERENCES),
    ):
        for table, references in checked.items():
            for *_reference, name in references:
                op.drop_constraint(name, table, type_="foreignkey")
            _pg_statement_check(table, references, events=events)
    op.execute(
        "CREATE FUNCTION refuse_history_change() RETURNS trigger LANGUAGE plpgsql AS $$ "
        "BEGIN RAISE EXCEPTION '% rows are history: they are never deleted and keep their id', "
        "TG_TABLE_NAME USING ERRCODE = 'restrict_violation'; END $$"
    )
    for table in NEVER_DELETED:
        _pg_never_deleted(table)
    op.execute(
        "CREATE FUNCTION lead_refuse_customer_change() RETURNS trigger LANGUAGE plpgsql AS $$ "
        "BEGIN RAISE EXCEPTION 'a lead keeps its customer' USING ERRCODE = 'restrict_violation'; "
        "END $$"
    )
    op.execute(FIXED_CUSTOMER + "EXECUTE FUNCTION lead_refuse_customer_change()")


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute("DROP TRIGGER IF EXISTS lead_customer_fixed")
        for table in NEVER_DELETED:
            op.execute(f"DROP TRIGGER IF EXISTS {table}_never_deleted")
            op.execute(f"DROP TRIGGER IF EXISTS {table}_id_fixed")
    else:
        op.execute("DROP TRIGGER IF EXISTS lead_customer_fixed ON lead")
        op.execute("DROP FUNCTION IF EXISTS lead_refuse_customer_change()")
        for table in NEVER_DELETED:
            op.execute(f"DROP TRIGGER IF EXISTS {table}_never_deleted ON {table}")
            op.execute(f"DROP TRIGGER IF EXISTS {table}_id_fixed ON {table}")
        op.execute("DROP FUNCTION IF EXISTS refuse_history_change()")
        for table, references in {**CHECKED_REFERENCES, **INSERT_CHECKED_REFERENCES}.items():
            for event in ("insert", "update"):
                op.execute(f"DROP TRIGGER IF EXISTS {table}_references_{event} ON {table}")
            op.execute(f"DROP FUNCTION IF EXISTS {table}_check_references()")
            for column, parent, parent_column, name in references:
                op.create_foreign_key(name, table, parent, [column], [parent_column])
    op.create_index("ix_lead_status", "lead", ["status"])
    op.create_index("ix_ownership_branch_id", "ownership", ["branch_id"])


def _pg_statement_check(
    table: str, references: list[tuple[str, str, str, str]], *, events: tuple[str, ...]
) -> None:
    checks = "\n".join(
        f"""
    IF EXISTS (SELECT 1 FROM new_rows n WHERE n.{column} IS NOT NULL
               AND NOT EXISTS (SELECT 1 FROM {parent} p WHERE p.{parent_column} = n.{column})) THEN
        RAISE EXCEPTION '{table}.{column} refers to a {parent} that does not exist'
            USING ERRCODE = 'foreign_key_violation';
    END IF;"""
        for column, parent, parent_column, _name in references
    )
    op.execute(
        f"CREATE FUNCTION {table}_check_references() RETURNS trigger LANGUAGE plpgsql AS $$\n"
        f"BEGIN{checks}\n    RETURN NULL;\nEND $$"
    )
    for event in events:
        op.execute(
            f"CREATE TRIGGER {table}_references_{event.lower()} AFTER {event} ON {table} "
            "REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT "
            f"EXECUTE FUNCTION {table}_check_references()"
        )


def _pg_never_deleted(table: str) -> None:
    op.execute(
        f"CREATE TRIGGER {table}_never_deleted BEFORE DELETE OR TRUNCATE ON {table} "
        "FOR EACH STATEMENT EXECUTE FUNCTION refuse_history_change()"
    )
    op.execute(
        f"CREATE TRIGGER {table}_id_fixed BEFORE UPDATE OF id ON {table} FOR EACH ROW "
        "WHEN (OLD.id IS DISTINCT FROM NEW.id) EXECUTE FUNCTION refuse_history_change()"
    )


def _sqlite_never_deleted(table: str) -> None:
    message = f"{table} rows are history: they are never deleted and keep their id"
    op.execute(
        f"CREATE TRIGGER {table}_never_deleted BEFORE DELETE ON {table} "
        f"BEGIN SELECT RAISE(ABORT, '{message}'); END"
    )
    op.execute(
        f"CREATE TRIGGER {table}_id_fixed BEFORE UPDATE OF id ON {table} "
        f"WHEN OLD.id IS NOT NEW.id BEGIN SELECT RAISE(ABORT, '{message}'); END"
    )

"""lead's branch references checked once per statement, not once per row (PostgreSQL)

Revision ID: 0029
Revises: 0028
Create Date: 2026-12-06

A round commit gives 1.3M leads a branch; each row's foreign-key check was a lookup of the
branch, one at a time, inside the commit's longest statement. As migration 0005 did for the
other tables a round writes, one check per statement over the changed rows replaces them:
branches are never deleted and keep their id (0005), so checking the writes is enough.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0029"
down_revision: str | None = "0028"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

REFERENCES = (  # (column, foreign key name)
    ("branch_id", "fk_lead_branch_id_branch"),
    ("returned_by_branch_id", "fk_lead_returned_by_branch_id_branch"),
)
EVENTS = ("insert", "update")


def _check(column: str) -> str:
    return f"""
    IF EXISTS (SELECT 1 FROM new_rows n WHERE n.{column} IS NOT NULL
               AND NOT EXISTS (SELECT 1 FROM branch b WHERE b.id = n.{column})) THEN
        RAISE EXCEPTION 'lead.{column} refers to a branch that does not exist'
            USING ERRCODE = 'foreign_key_violation';
    END IF;"""


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for _column, name in REFERENCES:
        op.drop_constraint(name, "lead", type_="foreignkey")
    checks = "".join(_check(column) for column, _name in REFERENCES)
    # EXECUTE is not needed: the check reads no transition-table size into a cached plan
    # that could go quadratic (a hash or index probe of `branch` either way).
    op.execute(
        "CREATE FUNCTION lead_check_branches() RETURNS trigger LANGUAGE plpgsql AS $$\n"
        f"BEGIN{checks}\n    RETURN NULL;\nEND $$"
    )
    for event in EVENTS:
        op.execute(
            f"CREATE TRIGGER lead_branches_{event} AFTER {event.upper()} ON lead "
            "REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT "
            "EXECUTE FUNCTION lead_check_branches()"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for event in EVENTS:
        op.execute(f"DROP TRIGGER IF EXISTS lead_branches_{event} ON lead")
    op.execute("DROP FUNCTION IF EXISTS lead_check_branches()")
    for column, name in REFERENCES:
        op.create_foreign_key(name, "lead", "branch", [column], ["id"])

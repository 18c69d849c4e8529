"""ledger at scale: the per-entry balance check without a sort per entry (PostgreSQL)

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-26

Writing a header checks that its entry is complete and balanced in each unit. The check
grouped each entry's postings by unit (a sort per entry) through a bitmap scan; for 200,000
headers it took 0.73 s. A posting's unit is CNY or KPI (check ``unit_of_account``), so one
aggregate with a filtered sum per unit, through a plain index scan, answers the same
question in 0.35 s. A posting in any other unit would make its entry fail the check.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

CLOSE_LOCK = "20261125, 2"  # as migration 0002
LOOKUPS = "SET enable_hashjoin = off SET enable_mergejoin = off SET enable_seqscan = off"
BY_UNIT = """
            SELECT e.id INTO bad FROM new_entries e
            CROSS JOIN LATERAL (
                SELECT count(*) AS n,
                       COALESCE(sum(p.amount) FILTER (WHERE p.unit = 'CNY'), 0) AS cny,
                       COALESCE(sum(p.amount) FILTER (WHERE p.unit = 'KPI'), 0) AS kpi,
                       count(*) FILTER (WHERE p.unit NOT IN ('CNY', 'KPI')) AS other
                FROM journal_posting p
                WHERE p.entry_id = e.id AND p.line_count = e.posting_count
            ) s
            WHERE s.n <> e.posting_count OR s.cny <> 0 OR s.kpi <> 0 OR s.other <> 0 LIMIT 1;"""
GROUPED = """
            SELECT e.id INTO bad FROM new_entries e
            CROSS JOIN LATERAL (
                SELECT COALESCE(SUM(u.n), 0) AS n, bool_or(u.total <> 0) AS unbalanced
                FROM (
                    SELECT count(*) AS n, sum(p.amount) AS total FROM journal_posting p
                    WHERE p.entry_id = e.id AND p.line_count = e.posting_count
                    GROUP BY p.unit
                ) u
            ) s
            WHERE s.n <> e.posting_count OR s.unbalanced LIMIT 1;"""


def upgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        op.execute(_function(BY_UNIT, settings=f"{LOOKUPS} SET enable_bitmapscan = off"))


def downgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        op.execute(_function(GROUPED, settings=LOOKUPS))


def _function(balance_check: str, *, settings: str) -> str:
    return f"""
        CREATE OR REPLACE FUNCTION ledger_entry_checked() RETURNS trigger LANGUAGE plpgsql
        {settings} SET jit = off AS $$
        DECLARE
            bad bigint;
        BEGIN
            PERFORM pg_advisory_xact_lock_shared({CLOSE_LOCK});
            SELECT e.id INTO bad FROM new_entries e
            JOIN ledger_closed_period c ON c.period >= e.period LIMIT 1;
            IF FOUND THEN
                RAISE EXCEPTION 'ledger: entry % is posted into a closed period', bad;
            END IF;{balance_check}
            IF FOUND THEN
                RAISE EXCEPTION 'ledger: entry % is unbalanced or incomplete', bad;
            END IF;
            RETURN NULL;
        END $$"""

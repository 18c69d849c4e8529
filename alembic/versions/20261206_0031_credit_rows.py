"""ledger at scale: an event credited by the default rule is its own journal entry

Revision ID: 0031
Revises: 0030
Create Date: 2026-12-06

Issue 18.3. Crediting a million events by the default rule wrote a million headers and two
to four million postings whose every value is a function of the event and its owner at
``occurred_at``: 25-40 s of a 55-75 s import (bench/ledger_results.md, sixth pass). The
event row now carries its credit instead:

* ``revenue_event`` gains ``period`` (the posting month), ``owner_code`` (the owning
  branch's code, NULL: suspense) and ``kpi_channel`` (the acquiring channel that gets the
  KPI overlay, NULL: none). ``period IS NULL`` marks an event credited some other way: by
  the core (split policies, every event on SQLite, every event imported before this
  migration), whose entry stays in ``journal_entry`` / ``journal_posting``.
* On PostgreSQL the event's id is drawn from ``journal_entry``'s sequence, so a credited
  event row *is* its entry: one id space, no header id to reserve.
* Two views present the ledger as it was stored before: ``ledger_entry`` (the stored
  headers and one header per credited event: key ``revenue:<event_id>``, kind ``credit``,
  posted when its batch was recorded) and ``ledger_posting`` (the stored postings and the
  legs of each credited event in the core's order: clearing debit, branch or suspense
  credit, then the KPI pair); ``ledger_line`` is the two joined (each posting with its
  entry's header), which most readers want, as one UNION so that each half keeps its own
  plan. Every reader in ``app/`` reads them.
* Guarantees on the new rows: append-only (migration 0002's trigger on ``revenue_event``);
  balanced and complete by construction (each leg is +/- the one amount, which is non-zero);
  exactly once (``event_id`` unique, and ``journal_entry`` refuses a stored credit for an
  event that carries one); a closed period is refused by a statement trigger as for
  headers; a reversal may name a credit row through ``revenue:<event_id>``.
* Indexes for the readers: ``(period, id)`` over credited rows (exports, statements,
  close), suspense credits (``owner_code IS NULL``).

The credit columns' consistency is a CHECK on PostgreSQL and a trigger on SQLite (which
cannot add a CHECK to an existing table without rebuilding it).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0031"
down_revision: str | None = "0030"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

PERIOD_CHECK = "length(period) = 7 AND substr(period, 5, 1) = '-'"
CREDIT_COLUMNS = "period IS NOT NULL OR (owner_code IS NULL AND kpi_channel IS NULL)"
CLOSE_LOCK = "20261125, 2"  # migration 0002: shared by postings, exclusive for a close
_LEGS = "CASE WHEN kpi_channel IS NULL THEN 2 ELSE 4 END"

LEDGER_ENTRY = f"""
CREATE VIEW ledger_entry AS
SELECT id, business_key, kind, event_id, reverses, occurred_at, posted_at, period,
       posting_count, memo
FROM journal_entry
UNION ALL
SELECT e.id, 'revenue:' || e.event_id, 'credit', e.event_id, NULL, e.occurred_at,
       b.created_at, e.period, {_LEGS.replace("kpi_channel", "e.kpi_channel")},
       substr(e.revenue_type || ' of ' || e.external_id, 1, 300)
FROM revenue_event e JOIN revenue_batch b ON b.id = e.batch_id
WHERE e.period IS NOT NULL
"""
LEDGER_POSTING = f"""
CREATE VIEW ledger_posting AS
SELECT entry_id, line_no, line_count, account, unit, amount FROM journal_posting
UNION ALL
SELECT id, 1, {_LEGS}, 'clearing:' || revenue_type, 'CNY', amount_fen
FROM revenue_event WHERE period IS NOT NULL
UNION ALL
SELECT id, 2, {_LEGS}, COALESCE('branch:' || owner_code || ':revenue', 'suspense:unowned'),
       'CNY', -amount_fen
FROM revenue_event WHERE period IS NOT NULL
UNION ALL
SELECT id, 3, 4, 'kpi:issued:' || revenue_type, 'KPI', amount_fen
FROM revenue_event WHERE kpi_channel IS NOT NULL
UNION ALL
SELECT id, 4, 4, 'channel:' || kpi_channel || ':kpi', 'KPI', -amount_fen
FROM revenue_event WHERE kpi_channel IS NOT NULL
"""
# Each posting with its entry's header: what most readers join, as one view, so that each
# half keeps its own plan (the stored half its posting indexes, the credit rows one read
# per leg, filtered by period through their index) instead of a join of two UNIONs.
# Every column cast to the stored half's type: SQLite pushes a WHERE term down into the arms
# of a compound view only when their columns have the same affinity.
_LINE = """
SELECT e.id, CAST({line_no} AS INTEGER), CAST({legs} AS INTEGER),
       CAST({account} AS VARCHAR(100)), CAST('{unit}' AS VARCHAR(3)), CAST({amount} AS BIGINT),
       CAST('credit' AS VARCHAR(16)), e.event_id, e.occurred_at, b.created_at, e.period
FROM revenue_event e JOIN revenue_batch b ON b.id = e.batch_id
WHERE e.{present} IS NOT NULL"""
LEDGER_LINE = """
CREATE VIEW ledger_line AS
SELECT p.entry_id, p.line_no, p.line_count, p.account, p.unit, p.amount, e.kind, e.event_id,
       e.occurred_at, e.posted_at, e.period
FROM journal_posting p JOIN journal_entry e ON e.id = p.entry_id""" + "".join(
    "\nUNION ALL"
    + _LINE.format(line_no=n, legs=legs, account=account, unit=unit, amount=amount, present=present)
    for n, legs, account, unit, amount, present in (
        (
            1,
            _LEGS.replace("kpi_channel", "e.kpi_channel"),
            "'clearing:' || e.revenue_type",
            "CNY",
            "e.amount_fen",
            "period",
        ),
        (
            2,
            _LEGS.replace("kpi_channel", "e.kpi_channel"),
            "COALESCE('branch:' || e.owner_code || ':revenue', 'suspense:unowned')",
            "CNY",
            "-e.amount_fen",
            "period",
        ),
        (3, "4", "'kpi:issued:' || e.revenue_type", "KPI", "e.amount_fen", "kpi_channel"),
        (4, "4", "'channel:' || e.kpi_channel || ':kpi'", "KPI", "-e.amount_fen", "kpi_channel"),
    )
)
INDEXES = (
    "CREATE INDEX ix_revenue_event_credit_period ON revenue_event (period, id) "
    "WHERE period IS NOT NULL",
    "CREATE INDEX ix_revenue_event_credit_suspense ON revenue_event (id) "
    "WHERE period IS NOT NULL AND owner_code IS NULL",
)

# Migration 0030's reference checks of journal_entry, with ``reverses`` also finding a
# credit row, and a stored credit refused for an event that carries its own.
_JOURNAL_ENTRY_CHECK = """
CREATE OR REPLACE FUNCTION journal_entry_check_references() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    missing bigint;
BEGIN
    EXECUTE 'SELECT count(*) FROM new_rows n WHERE n.event_id IS NOT NULL
             AND NOT EXISTS (SELECT 1 FROM revenue_event p WHERE p.event_id = n.event_id)'
        INTO missing;
    IF missing > 0 THEN
        RAISE EXCEPTION 'journal_entry.event_id refers to a revenue_event that does not exist'
            USING ERRCODE = 'foreign_key_violation';
    END IF;
    EXECUTE 'SELECT count(*) FROM new_rows n WHERE n.reverses IS NOT NULL
             AND NOT EXISTS (SELECT 1 FROM journal_entry p WHERE p.business_key = n.reverses)
             AND NOT EXISTS (SELECT 1 FROM revenue_event r WHERE r.period IS NOT NULL
                             AND substr(n.reverses, 1, 8) = ''revenue:''
                             AND r.event_id = substr(n.reverses, 9))'
        INTO missing;
    IF missing > 0 THEN
        RAISE EXCEPTION 'journal_entry.reverses refers to a journal_entry that does not exist'
            USING ERRCODE = 'foreign_key_violation';
    END IF;
    EXECUTE 'SELECT count(*) FROM new_rows n WHERE substr(n.business_key, 1, 8) = ''revenue:''
             AND EXISTS (SELECT 1 FROM revenue_event r WHERE r.period IS NOT NULL
                         AND r.event_id = substr(n.business_key, 9))'
        INTO missing;
    IF missing > 0 THEN
        RAISE EXCEPTION 'journal_entry: the event is credited already (its own row): duplicate key'
            USING ERRCODE = 'unique_violation';
    END IF;
    RETURN NULL;
END $$
"""
_JOURNAL_ENTRY_CHECK_0030 = """
CREATE OR REPLACE FUNCTION journal_entry_check_references() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    missing bigint;
BEGIN
    EXECUTE 'SELECT count(*) FROM new_rows n WHERE n.event_id IS NOT NULL
             AND NOT EXISTS (SELECT 1 FROM revenue_event p WHERE p.event_id = n.event_id)'
        INTO missing;
    IF missing > 0 THEN
        RAISE EXCEPTION 'journal_entry.event_id refers to a revenue_event that does not exist'
            USING ERRCODE = 'foreign_key_violation';
    END IF;
    EXECUTE 'SELECT count(*) FROM new_rows n WHERE n.reverses IS NOT NULL
             AND NOT EXISTS (SELECT 1 FROM journal_entry p WHERE p.business_key = n.reverses)'
        INTO missing;
    IF missing > 0 THEN
        RAISE EXCEPTION 'journal_entry.reverses refers to a journal_entry that does not exist'
            USING ERRCODE = 'foreign_key_violation';
    END IF;
    RETURN NULL;
END $$
"""
# A credit row is refused in a closed period, as ledger_entry_checked refuses a header; the
# transition table is only read when a period is closed at all.
_CREDIT_CHECK = f"""
CREATE FUNCTION revenue_event_credit_checked() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    last_closed varchar;
    bad bigint;
BEGIN
    PERFORM pg_advisory_xact_lock_shared({CLOSE_LOCK});
    SELECT max(period) INTO last_closed FROM ledger_closed_period;
    IF last_closed IS NOT NULL THEN
        SELECT n.id INTO bad FROM new_rows n WHERE n.period <= last_closed LIMIT 1;
        IF FOUND THEN
            RAISE EXCEPTION 'ledger: entry % is posted into a closed period', bad;
        END IF;
    END IF;
    RETURN NULL;
END $$
"""
_CREDIT_TRIGGER = """
CREATE TRIGGER revenue_event_credit_checked AFTER INSERT ON revenue_event
REFERENCING NEW TABLE AS new_rows
FOR EACH STATEMENT EXECUTE FUNCTION revenue_event_credit_checked()
"""
_SQLITE_TRIGGERS = (
    """CREATE TRIGGER revenue_event_open_period BEFORE INSERT ON revenue_event
    WHEN NEW.period IS NOT NULL
     AND EXISTS (SELECT 1 FROM ledger_closed_period WHERE period >= NEW.period)
    BEGIN SELECT RAISE(ABORT, 'ledger: period is closed'); END""",
    """CREATE TRIGGER revenue_event_credit_columns BEFORE INSERT ON revenue_event
    WHEN (NEW.period IS NULL AND (NEW.owner_code IS NOT NULL OR NEW.kpi_channel IS NOT NULL))
      OR (NEW.period IS NOT NULL
          AND NOT (length(NEW.period) = 7 AND substr(NEW.period, 5, 1) = '-'))
    BEGIN SELECT RAISE(ABORT, 'ledger: inconsistent credit columns'); END""",
)


def _run(sql: str) -> None:
    # Colons escaped: the bodies hold ':revenue' and ':kpi', which text() takes for binds.
    op.execute(sa.text(sql.replace(":", "\\:")))


def upgrade() -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    for column, length in (("period", 7), ("owner_code", 32), ("kpi_channel", 64)):
        _run(f"ALTER TABLE revenue_event ADD COLUMN {column} varchar({length})")
    _run(LEDGER_ENTRY)
    _run(LEDGER_POSTING)
    _run(LEDGER_LINE)
    for index in INDEXES:
        _run(index)
    if sqlite:
        for trigger in _SQLITE_TRIGGERS:
            _run(trigger)
        return
    _run(
        "ALTER TABLE revenue_event ADD CONSTRAINT ck_revenue_event_credit_period "
        f"CHECK (period IS NULL OR ({PERIOD_CHECK}))"
    )
    _run(
        "ALTER TABLE revenue_event ADD CONSTRAINT ck_revenue_event_credit_columns "
        f"CHECK ({CREDIT_COLUMNS})"
    )
    # One id space: events take their ids from the journal entry sequence, past every id
    # either table holds.
    _run(
        "SELECT setval(pg_get_serial_sequence('journal_entry', 'id'), GREATEST("
        "(SELECT COALESCE(max(id), 0) FROM journal_entry),"
        "(SELECT COALESCE(max(id), 0) FROM revenue_event), 1))"
    )
    sequence = (
        op.get_bind()
        .execute(sa.text("SELECT pg_get_serial_sequence('journal_entry', 'id')"))
        .scalar_one()
    )
    _run(f"ALTER TABLE revenue_event ALTER COLUMN id SET DEFAULT nextval('{sequence}'::regclass)")
    _run(_JOURNAL_ENTRY_CHECK)
    _run(_CREDIT_CHECK)
    _run(_CREDIT_TRIGGER)


def downgrade() -> None:
    bind = op.get_bind()
    carried = bind.execute(
        sa.text("SELECT count(*) FROM revenue_event WHERE period IS NOT NULL")
    ).scalar_one()
    if carried:
        raise RuntimeError(
            f"{carried} events carry their own credit: downgrading past 0031 would lose them"
        )
    sqlite = bind.dialect.name == "sqlite"
    if sqlite:
        _run("DROP TRIGGER revenue_event_open_period")
        _run("DROP TRIGGER revenue_event_credit_columns")
    else:
        _run("DROP TRIGGER revenue_event_credit_checked ON revenue_event")
        _run("DROP FUNCTION revenue_event_credit_checked()")
        _run(_JOURNAL_ENTRY_CHECK_0030)
        sequence = bind.execute(
            sa.text("SELECT pg_get_serial_sequence('revenue_event', 'id')")
        ).scalar_one()
        _run(
            f"ALTER TABLE revenue_event ALTER COLUMN id SET DEFAULT nextval('{sequence}'::regclass)"
        )
        _run(
            f"SELECT setval('{sequence}', (SELECT COALESCE(max(id), 0) FROM revenue_event) + 1, "
            "false)"
        )
        _run("ALTER TABLE revenue_event DROP CONSTRAINT ck_revenue_event_credit_columns")
        _run("ALTER TABLE revenue_event DROP CONSTRAINT ck_revenue_event_credit_period")
    _run("DROP INDEX ix_revenue_event_credit_suspense")
    _run("DROP INDEX ix_revenue_event_credit_period")
    _run("DROP VIEW ledger_line")
    _run("DROP VIEW ledger_posting")
    _run("DROP VIEW ledger_entry")
    for column in ("kpi_channel", "owner_code", "period"):
        _run(f"ALTER TABLE revenue_event DROP COLUMN {column}")

"""PROTOTYPE (issue 18.3, sixth pass): what one row per credit reaches end to end.

    PYTHONPATH=. python bench/credit_rows_proto.py --events 1000000 --variant event

Same database set-up and file as bench/revenue_import.py; the import runs the real staging
(parse in worker processes, COPY, lead resolution, the row checks) and then, instead of the
event insert + credit stage + posting insert + header insert:

* ``--variant event``: the credit is the event row itself. revenue_event gets the credit
  columns (owner code, KPI overlay channel, posting period) and takes its id from the
  journal entry sequence (the entry id); the one INSERT ... SELECT that stores the new events
  resolves the owner at ``occurred_at`` in the same statement;
* ``--variant table``: events inserted as today, then one narrow ``journal_credit`` row per
  event (entry id, event row id, owner code, overlay channel, period) from the credit stage.

Reconciliation is recomputed from the stored rows in both. Nothing here is the product's
code path; it measures writes, not guarantees (no balance trigger is needed for rows whose
legs are a function of the row).
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from datetime import datetime
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.engine import Engine

from app import bulk
from app.db import session_scope
from app.imports.csvfile import ErrorCollector
from app.journal.revenue_import import importer, parallel_parse, staging_table
from app.journal.revenue_import.sql_crediting import _EVENTS
from app.journal.store import period_lock
from app.migrations import upgrade
from app.tables.base import utcnow
from bench.revenue_import import (
    cpu_calibration,
    engine_for,
    fresh_database,
    load_owners,
    write_events,
)
from bench.statement_times import slow_statements

_EVENT_DDL = [
    "ALTER TABLE revenue_event ADD COLUMN owner_code varchar(32)",
    "ALTER TABLE revenue_event ADD COLUMN kpi_channel varchar(64)",
    "ALTER TABLE revenue_event ADD COLUMN period varchar(7)",
    "ALTER TABLE revenue_event ALTER COLUMN id SET DEFAULT nextval('journal_entry_id_seq')",
]
# --lean: the event row without its fingerprint (content compared column by column), without
# the batch index (a batch is read through its id range), the lead reference checked by one
# hash anti-join rather than a probe per row, and no anti-join for repeats inside the file
# (ON CONFLICT DO NOTHING in line order keeps the first).
_LEAN_DDL = [
    "ALTER TABLE revenue_event DROP COLUMN fingerprint",
    "DROP INDEX ix_revenue_event_batch_id",
    """CREATE OR REPLACE FUNCTION revenue_event_check_references() RETURNS trigger
       LANGUAGE plpgsql SET enable_nestloop = off AS $$
       BEGIN
         IF EXISTS (SELECT 1 FROM new_rows n LEFT JOIN lead p ON p.id = n.lead_id
                    WHERE p.id IS NULL) THEN
           RAISE EXCEPTION 'revenue_event.lead_id refers to a lead that does not exist'
             USING ERRCODE = 'foreign_key_violation';
         END IF;
         RETURN NULL;
       END $$""",
]
# --variant full: "fast" plus what the readers would need on the credit rows: the batch index
# back, a period index (exports, statements, close) and a branch index (the branch ledger page).
_READER_DDL = [
    "CREATE INDEX ix_revenue_event_batch_id ON revenue_event (batch_id, id)",
    "CREATE INDEX ix_revenue_event_period ON revenue_event (period, id)",
    "CREATE INDEX ix_revenue_event_owner ON revenue_event (owner_code, id) WHERE owner_code IS NOT NULL",
]
_TABLE_DDL = [
    """CREATE TABLE journal_credit (
        entry_id bigint PRIMARY KEY, event_ref bigint NOT NULL, owner_code varchar(32),
        kpi_channel varchar(64), period varchar(7) NOT NULL, posted_at timestamptz NOT NULL)""",
    "CREATE INDEX ix_journal_credit_period ON journal_credit (period, posted_at)",
]

_STAGE = staging_table.STAGE
# The new events with their owner at occurred_at, in one statement (variant "event").
_INSERT_CREDITED = f"""
    INSERT INTO revenue_event (event_id, external_id, channel, lead_id, revenue_type,
                               amount_fen, occurred_at, fingerprint, batch_id, line,
                               owner_code, kpi_channel, period)
    SELECT event_id, external_id, channel, lead_id, revenue_type, amount_fen, occurred_at,
           fingerprint, :batch, line, owner_code,
           CASE WHEN lead_channel = ANY(:channels) THEN lead_channel END,
           CASE WHEN p <= :last_closed THEN :open ELSE p END
    FROM (
        SELECT DISTINCT ON (s.line) s.*, l.channel AS lead_channel, b.code AS owner_code,
               to_char(s.occurred_at AT TIME ZONE 'Asia/Shanghai', 'YYYY-MM') AS p
        FROM {_STAGE} s JOIN lead l ON l.id = s.lead_id
        LEFT JOIN ownership o ON o.customer_id = l.customer_id
             AND o.valid_from <= s.occurred_at
             AND (o.valid_to IS NULL OR o.valid_to > s.occurred_at)
        LEFT JOIN branch b ON b.id = o.branch_id
        WHERE NOT EXISTS (SELECT 1 FROM {_STAGE} t WHERE t.event_id = s.event_id
                          AND t.line < s.line)
        ORDER BY s.line, o.valid_from DESC
    ) n
    ON CONFLICT (event_id) DO NOTHING
"""
_LEAN_INSERT = f"""
    INSERT INTO revenue_event (event_id, external_id, channel, lead_id, revenue_type,
                               amount_fen, occurred_at, batch_id, line,
                               owner_code, kpi_channel, period)
    SELECT event_id, external_id, channel, lead_id, revenue_type, amount_fen, occurred_at,
           :batch, line, owner_code,
           CASE WHEN lead_channel = ANY(:channels) THEN lead_channel END,
           CASE WHEN p <= :last_closed THEN :open ELSE p END
    FROM (
        SELECT DISTINCT ON (s.line) s.*, l.channel AS lead_channel, b.code AS owner_code,
               to_char(s.occurred_at AT TIME ZONE 'Asia/Shanghai', 'YYYY-MM') AS p
        FROM {_STAGE} s JOIN lead l ON l.id = s.lead_id
        LEFT JOIN ownership o ON o.customer_id = l.customer_id
             AND o.valid_from <= s.occurred_at
             AND (o.valid_to IS NULL OR o.valid_to > s.occurred_at)
        LEFT JOIN branch b ON b.id = o.branch_id
        ORDER BY s.line, o.valid_from DESC
    ) n
    ON CONFLICT (event_id) DO NOTHING
    RETURNING id
"""
_LEAN_CONFLICTS = f"""
    SELECT s.line, s.event_id, e.batch_id, e.line FROM {_STAGE} s
    JOIN revenue_event e ON e.event_id = s.event_id
    WHERE e.external_id <> s.external_id OR e.revenue_type <> s.revenue_type
       OR e.amount_fen <> s.amount_fen OR e.occurred_at <> s.occurred_at
       OR e.lead_id <> s.lead_id
    ORDER BY s.line LIMIT 100
"""
_LEAN_TOTALS = """
    SELECT count(*), COALESCE(SUM(amount_fen), 0),
           COALESCE(SUM(amount_fen) FILTER (WHERE owner_code IS NOT NULL), 0),
           COALESCE(SUM(amount_fen) FILTER (WHERE owner_code IS NULL), 0)
    FROM revenue_event WHERE id BETWEEN :first AND :last AND batch_id = :batch
"""
_EVENT_TOTALS = """
    SELECT count(*), COALESCE(SUM(amount_fen), 0),
           COALESCE(SUM(amount_fen) FILTER (WHERE owner_code IS NOT NULL), 0),
           COALESCE(SUM(amount_fen) FILTER (WHERE owner_code IS NULL), 0)
    FROM revenue_event WHERE batch_id = :batch
"""
_CREDITS = f"""
    INSERT INTO journal_credit (entry_id, event_ref, owner_code, kpi_channel, period, posted_at)
    SELECT nextval((SELECT CAST(pg_get_serial_sequence('journal_entry', 'id') AS regclass))),
           s.id, s.owner_code, CASE WHEN s.lead_channel = ANY(:channels) THEN s.lead_channel END,
           to_char(s.occurred_at AT TIME ZONE 'Asia/Shanghai', 'YYYY-MM'), :now
    FROM ({_EVENTS}) s
"""
_TABLE_TOTALS = """
    SELECT count(*), COALESCE(SUM(e.amount_fen), 0),
           COALESCE(SUM(e.amount_fen) FILTER (WHERE c.owner_code IS NOT NULL), 0),
           COALESCE(SUM(e.amount_fen) FILTER (WHERE c.owner_code IS NULL), 0)
    FROM revenue_event e JOIN journal_credit c ON c.event_ref = e.id WHERE e.batch_id = :batch
"""


_RAW = "revenue_raw_rows"
# --variant fast: the file goes to PostgreSQL as it is (COPY ... CSV, no Python parsing);
# the rows whose every cell has a strict canonical shape are converted in SQL, and any other
# file would go through the Python parser (not needed for this bench file: asserted).
_FAST_STAGE = f"""
    CREATE TEMPORARY TABLE {_STAGE} ON COMMIT DROP AS
    SELECT r.line, r.event_id, r.external_id, NULL::varchar AS channel,
           r.type AS revenue_type,
           CASE WHEN r.amount ~ '^[+-]?[0-9]{{1,13}}([.][0-9]{{1,2}})?$'
                THEN round(r.amount::numeric * 100)::bigint END AS amount_fen,
           CASE WHEN r.occurred_at ~ '^[0-9]{{4}}-[0-9]{{2}}-[0-9]{{2}}T[0-9]{{2}}:[0-9]{{2}}:[0-9]{{2}}$'
                THEN (r.occurred_at || '+08:00')::timestamptz END AS occurred_at,
           l.id AS lead_id,
           r.event_id ~ '^[A-Za-z0-9_.:-]+$' AND r.external_id ~ '^[A-Za-z0-9_.:-]+$'
             AND length(r.event_id) <= 128 AND length(r.external_id) <= 128
             AND r.type IN ('brokerage_commission', 'product_fee', 'margin_interest',
                            'advisory_fee', 'other') AS shaped
    FROM {_RAW} r LEFT JOIN lead l ON l.external_id = r.external_id
"""
_FAST_CHECK = f"""
    SELECT count(*), count(*) FILTER (WHERE lead_id IS NULL),
           count(*) FILTER (WHERE NOT shaped OR amount_fen IS NULL OR amount_fen = 0
                            OR occurred_at IS NULL OR occurred_at > :latest
                            OR occurred_at < '1970-01-01T00:00:00Z'),
           SUM(ABS(amount_fen))
    FROM {_STAGE}
"""


def _fast_stage(session, path: Path) -> int:  # type: ignore[no-untyped-def]
    session.execute(
        text(f"""CREATE TEMPORARY TABLE {_RAW} (line bigint GENERATED ALWAYS AS
        IDENTITY (START WITH 2), event_id text, external_id text, type text, amount text,
        occurred_at text) ON COMMIT DROP""")
    )
    dbapi = session.connection().connection.driver_connection
    with (
        dbapi.cursor().copy(
            f"COPY {_RAW} (event_id, external_id, type, amount, occurred_at) FROM STDIN "
            "(FORMAT csv, HEADER true)"
        ) as copy,
        path.open("rb") as stream,
    ):
        while block := stream.read(1 << 20):
            copy.write(block)
    session.execute(text(_FAST_STAGE))
    return int(session.execute(text(f"SELECT count(*) FROM {_RAW}")).scalar_one())


def proto_import(engine: Engine, path: Path, *, variant: str, workers: int) -> tuple[float, int]:
    started = time.perf_counter()
    now = utcnow()
    with session_scope(engine) as session:
        errors = ErrorCollector(file=path.name)
        staging_table.create(session)
        if variant in ("fast", "full"):
            new = _fast_import(session, path, now=now, started=started)
        else:
            new = _parsed_import(session, path, variant=variant, now=now, started=started,
                                 errors=errors, workers=workers)  # fmt: skip
        commit_started = time.perf_counter()
    print(f"  commit {time.perf_counter() - commit_started:.2f} s")
    return time.perf_counter() - started, int(new)


def _parsed_import(session, path, *, variant, now, started, errors, workers):  # type: ignore[no-untyped-def]
    if True:
        rows = importer._stage_in_parallel(
            session, path=path, name=path.name, errors=errors, now=now, workers=workers,
            max_amount_fen=10**12,
        )  # fmt: skip
        staged = time.perf_counter()
        print(f"  parse + COPY {staged - started:.2f} s", flush=True)
        staging_table.resolve_leads(session)
        importer._report_file_total_overflow(session, errors)
        importer._report_lead_errors(session, errors)
        errors.raise_if_any()
        period_lock.take_posting_lock(session)
        batch_id = bulk.reserve_ids(session, table="revenue_batch", count=1)[0]
        channels = ["app"]
        params = {"batch": batch_id, "channels": channels, "last_closed": "", "open": "2026-12",
                  "now": now}  # fmt: skip
        if variant == "lean":
            inserted = session.execute(
                text(f"WITH n AS ({_LEAN_INSERT}) SELECT count(*), min(id), max(id) FROM n"),
                params,
            ).one()
            new = int(inserted[0])
            conflicts = session.execute(text(_LEAN_CONFLICTS)).all()
            assert not conflicts
            params.update(first=inserted[1] or 0, last=inserted[2] or 0)
            totals = session.execute(text(_LEAN_TOTALS), params).one()
        elif variant == "event":
            new = session.execute(text(_INSERT_CREDITED), params).rowcount  # type: ignore[attr-defined]
            importer._report_conflicts(session, errors)
            totals = session.execute(text(_EVENT_TOTALS), params).one()
        else:
            new = staging_table.insert_new_events(session, batch_id=batch_id)
            if new >= 10_000:
                bulk.refresh_statistics(session, "revenue_event")
            importer._report_conflicts(session, errors)
            session.execute(text(_CREDITS), params)
            totals = session.execute(text(_TABLE_TOTALS), params).one()
        errors.raise_if_any()
        print(f"  after stage {time.perf_counter() - staged:.2f} s", flush=True)
        if new:
            session.execute(
                text("""INSERT INTO revenue_batch (id, file_name, file_sha256, actor, created_at,
                        row_count, new_events, imported_fen, branches_fen, hq_fen, suspense_fen)
                        VALUES (:id, 'f', 'x', 'bench', :now, :rows, :new, :i, :b, 0, :s)"""),
                {
                    "id": batch_id,
                    "now": now,
                    "rows": rows,
                    "new": new,
                    "i": totals[1],
                    "b": totals[2],
                    "s": totals[3],
                },
            )
        staging_table.drop(session)
    return new


def _fast_import(session, path: Path, *, now: datetime, started: float) -> int:  # type: ignore[no-untyped-def]
    from datetime import timedelta

    raw_rows = _fast_stage(session, path)
    staged = time.perf_counter()
    print(f"  COPY + stage {staged - started:.2f} s", flush=True)
    rows, unknown, bad, _total = session.execute(
        text(_FAST_CHECK), {"latest": now + timedelta(minutes=10)}
    ).one()
    if rows != raw_rows or unknown or bad:  # the product would re-stage with the Python parser
        raise SystemExit(f"not a clean file: {rows}, {raw_rows}, {unknown}, {bad}")
    period_lock.take_posting_lock(session)
    batch_id = bulk.reserve_ids(session, table="revenue_batch", count=1)[0]
    params = {"batch": batch_id, "channels": ["app"], "last_closed": "", "open": "2026-12"}
    inserted = session.execute(
        text(f"WITH n AS ({_LEAN_INSERT}) SELECT count(*), min(id), max(id) FROM n"), params
    ).one()
    new = int(inserted[0])
    if new != rows:  # some rows repeat an event: the checks a clean first import skips
        session.execute(text(f"CREATE INDEX {_STAGE}_event ON {_STAGE} (event_id, line)"))
        session.execute(text(f"ANALYZE {_STAGE}"))
        assert not session.execute(text(_LEAN_CONFLICTS)).all()
    params.update(first=inserted[1] or 0, last=inserted[2] or 0)
    totals = session.execute(text(_LEAN_TOTALS), params).one()
    if new:
        session.execute(
            text("""INSERT INTO revenue_batch (id, file_name, file_sha256, actor, created_at,
                    row_count, new_events, imported_fen, branches_fen, hq_fen, suspense_fen)
                    VALUES (:id, 'f', 'x', 'bench', :now, :rows, :new, :i, :b, 0, :s)"""),
            {
                "id": batch_id,
                "now": now,
                "rows": rows,
                "new": new,
                "i": totals[1],
                "b": totals[2],
                "s": totals[3],
            },
        )
    print(f"  after stage {time.perf_counter() - staged:.2f} s", flush=True)
    return new


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--leads", type=int, default=200_000)
    parser.add_argument(
        "--variant", choices=("event", "table", "lean", "fast", "full"), default="event"
    )
    parser.add_argument("--database", default="o2o_credits_bench")
    parser.add_argument("--slow-sql", type=float, default=0.3)
    args = parser.parse_args()
    base = os.environ.get("O2O_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
    url = fresh_database(base, name=args.database)
    print(f"cpu calibration: {cpu_calibration():.3f} s, variant {args.variant}, "
          f"{datetime.now():%H:%M:%S}")  # fmt: skip
    engine = engine_for(url)
    upgrade(engine)
    with engine.begin() as conn:
        ddls = {
            "event": _EVENT_DDL,
            "table": _TABLE_DDL,
            "lean": _EVENT_DDL + _LEAN_DDL,
            "fast": _EVENT_DDL + _LEAN_DDL,
            "full": _EVENT_DDL + _LEAN_DDL + _READER_DDL,
        }
        for ddl in ddls[args.variant]:
            conn.execute(text(ddl))
    load_owners(engine, leads=args.leads, branches=300)
    with slow_statements(engine, seconds=args.slow_sql), tempfile.TemporaryDirectory() as d:
        path = Path(d) / "revenue.csv"
        write_events(path, events=args.events, leads=args.leads)
        workers = parallel_parse.workers_for(path)
        seconds, new = proto_import(engine, path, variant=args.variant, workers=workers)
        print(f"first import: {new:,} events in {seconds:.2f} s = {new / seconds:,.0f} events/s")
        seconds, again = proto_import(engine, path, variant=args.variant, workers=workers)
        print(f"re-import: {again} new events in {seconds:.2f} s")
        write_events(path, events=args.events, leads=args.leads, seed=8, prefix="NX")
        seconds, new = proto_import(engine, path, variant=args.variant, workers=workers)
        print(f"next import: {new:,} events in {seconds:.2f} s = {new / seconds:,.0f} events/s")


if __name__ == "__main__":
    main()

"""The database itself refuses what the ledger forbids: raw SQL attacks on both dialects."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError

from tests.app.ledger_world import HEADER, import_csv, scalar

TS = "2026-10-05 02:00:00+00"
ENTRY = (
    "INSERT INTO journal_entry (id, business_key, kind, event_id, reverses, occurred_at, "
    "posted_at, period, posting_count, memo) VALUES "
    "({id}, '{key}', '{kind}', {event}, {reverses}, '{ts}', '{ts}', '{period}', {count}, '')"
)
POSTING = (
    "INSERT INTO journal_posting (entry_id, line_no, line_count, account, unit, amount) "
    "VALUES ({id}, {line}, {count}, '{account}', '{unit}', {amount})"
)


def entry(
    entry_id: int, key: str, *, kind: str = "adjustment", period: str = "2026-10",
    count: int = 2, reverses: str | None = None,
) -> str:  # fmt: skip
    rev = f"'{reverses}'" if reverses else "NULL"
    return ENTRY.format(id=entry_id, key=key, kind=kind, event="NULL", reverses=rev, ts=TS,
                        period=period, count=count)  # fmt: skip


def legs(entry_id: int, amounts: tuple[int, ...] = (100, -100), count: int = 2) -> list[str]:
    accounts = ("clearing:other", "suspense:unowned", "branch:SZ-FT:revenue")
    return [
        POSTING.format(
            id=entry_id, line=i + 1, count=count, account=accounts[i], unit="CNY", amount=amount
        )
        for i, amount in enumerate(amounts)
    ]


def refused(engine: Engine, *statements: str) -> str:
    """Run the statements in one transaction and return the database's refusal."""
    with pytest.raises(DBAPIError) as caught:
        _run(engine, statements)
    return str(caught.value.orig)


def _run(engine: Engine, statements: tuple[str, ...]) -> None:
    with engine.begin() as conn:
        for statement in statements:
            conn.execute(text(statement))


def accepted(engine: Engine, *statements: str) -> None:
    _run(engine, statements)


@pytest.fixture
def booked(ledger_engine: Engine, tmp_path: Path) -> Engine:
    import_csv(ledger_engine, tmp_path, HEADER + "E1,A1,other,10,2026-10-05,app\n")
    return ledger_engine


@pytest.mark.parametrize(
    "attack",
    [
        "UPDATE journal_posting SET amount = amount * 2",
        "DELETE FROM journal_posting",
        "UPDATE journal_entry SET period = '2026-11'",
        "DELETE FROM journal_entry",
        "UPDATE revenue_event SET amount_fen = 1",
        "DELETE FROM revenue_event",
        "UPDATE revenue_batch SET imported_fen = 0, branches_fen = 0",
        "DELETE FROM revenue_batch",
    ],
)
def test_journal_events_and_batches_are_append_only(booked: Engine, attack: str) -> None:
    assert "append-only" in refused(booked, attack)


def test_truncate_is_refused_on_postgresql(booked: Engine) -> None:
    if booked.dialect.name == "sqlite":
        pytest.skip("SQLite has no TRUNCATE")
    assert "append-only" in refused(booked, "TRUNCATE journal_posting CASCADE")


def test_an_unbalanced_entry_is_refused(booked: Engine) -> None:
    assert "unbalanced" in refused(booked, *legs(900, (100, -99)), entry(900, "adj:1"))


def test_postings_without_their_entry_are_refused_at_commit(booked: Engine) -> None:
    refused(booked, *legs(901))
    assert scalar(booked, "SELECT COUNT(*) FROM journal_posting WHERE entry_id = 901") == 0


def test_an_orphan_posting_beside_complete_entries_is_refused_at_commit(booked: Engine) -> None:
    orphan = POSTING.format(id=931, line=1, count=2, account="hq:online:revenue", unit="CNY",
                            amount=5)  # fmt: skip
    refused(booked, _one_statement([*legs(930), orphan, *legs(932)]), entry(930, "adj:30"),
            entry(932, "adj:32"))  # fmt: skip
    assert scalar(booked, "SELECT COUNT(*) FROM journal_posting WHERE entry_id >= 930") == 0


def test_an_entry_must_have_exactly_its_declared_postings(booked: Engine) -> None:
    assert "incomplete" in refused(booked, *legs(902, count=3), entry(902, "adj:2", count=3))
    assert "incomplete" in refused(booked, entry(903, "adj:3"))


def test_postings_cannot_be_added_to_a_sealed_entry(booked: Engine) -> None:
    # A stored entry (on PostgreSQL the imported credit is its event's row, migration 0031).
    accepted(booked, *legs(950), entry(950, "adj:50"))
    entry_id, count = 950, 2
    sneak = POSTING.format(id=entry_id, line=int(count) + 1, count=count,  # type: ignore[call-overload]
                           account="hq:online:revenue", unit="CNY", amount=5)  # fmt: skip
    refused(booked, sneak)
    beyond = [
        POSTING.format(id=entry_id, line=line, count=9, account=account, unit="CNY", amount=amount)
        for line, account, amount in ((8, "hq:online:revenue", 7), (9, "suspense:unowned", -7))
    ]
    assert "sealed" in refused(booked, *beyond)
    credit = scalar(booked, "SELECT id FROM ledger_entry WHERE business_key = 'revenue:E1'")
    refused(booked, POSTING.format(id=credit, line=3, count=3, account="hq:online:revenue",
                                   unit="CNY", amount=5))  # fmt: skip


def test_one_statement_may_post_new_entries_around_a_sealed_one(booked: Engine) -> None:
    """The sealed check probes the statement's id range first: a header inside the range
    (here 921) must not refuse postings for the new entries on either side of it."""
    accepted(booked, *legs(921), entry(921, "adj:21"))
    around = _one_statement(legs(920) + legs(922))
    accepted(booked, around, entry(920, "adj:20"), entry(922, "adj:22"))
    sneak = POSTING.format(id=921, line=3, count=3, account="hq:online:revenue", unit="CNY",
                           amount=5)  # fmt: skip
    assert "sealed" in refused(booked, _one_statement([*legs(923), sneak]), entry(923, "adj:23"))


def _one_statement(postings: list[str]) -> str:
    """Several single-row posting INSERTs as one multi-row INSERT statement."""
    head, _values = postings[0].split(" VALUES ")
    return head + " VALUES " + ", ".join(p.split(" VALUES ")[1] for p in postings)


def test_a_second_entry_with_the_same_business_key_is_refused(booked: Engine) -> None:
    refused(booked, *legs(904), entry(904, "revenue:E1", kind="credit"))
    accepted(booked, *legs(905), entry(905, "adj:5"))
    refused(booked, *legs(906), entry(906, "adj:5"))


def test_an_entry_can_be_reversed_at_most_once(booked: Engine) -> None:
    accepted(booked, *legs(907), entry(907, "reversal:revenue:E1", kind="reversal",
                                       reverses="revenue:E1"))  # fmt: skip
    refused(booked, *legs(908), entry(908, "reversal:revenue:E1", kind="reversal",
                                      reverses="revenue:E1"))  # fmt: skip
    refused(booked, *legs(909), entry(909, "other-key", kind="reversal", reverses="revenue:E1"))


def test_a_reversal_must_name_a_stored_entry(booked: Engine) -> None:
    """PostgreSQL checks ``reverses`` once per statement (migration 0023), SQLite by its key."""
    ghost = entry(917, "reversal:revenue:NOPE", kind="reversal", reverses="revenue:NOPE")
    refused(booked, *legs(917), ghost)
    # in one statement beside a good reversal, the bad one still fails the whole statement
    good_and_ghost = entry(918, "reversal:revenue:E1", kind="reversal", reverses="revenue:E1")
    good_and_ghost += ", " + ghost.split(" VALUES ")[1].replace("(917,", "(919,")
    refused(booked, *legs(918), *legs(919), good_and_ghost)
    assert scalar(booked, "SELECT COUNT(*) FROM journal_entry WHERE kind = 'reversal'") == 0


def test_nothing_is_posted_into_or_before_a_closed_period(booked: Engine) -> None:
    accepted(booked, f"INSERT INTO ledger_closed_period VALUES ('2026-10', '{TS}', 'test')")
    assert "closed" in refused(booked, *legs(910), entry(910, "adj:10", period="2026-10"))
    assert "closed" in refused(booked, *legs(911), entry(911, "adj:11", period="2026-09"))
    accepted(booked, *legs(912), entry(912, "adj:12", period="2026-11"))
    assert "append-only" in refused(booked, "DELETE FROM ledger_closed_period")


def test_amounts_must_be_integers(booked: Engine) -> None:
    as_text = POSTING.format(id=913, line=1, count=2, account="clearing:other", unit="CNY",
                             amount="'1.5'")  # fmt: skip
    refused(booked, as_text)
    if booked.dialect.name == "sqlite":
        # PostgreSQL's BIGINT column cannot hold anything else; SQLite needs the CHECK.
        refused(booked, *legs(914, (1.5, -1.5)), entry(914, "adj:14"))  # type: ignore[arg-type]
        refused(booked, *legs(915, (2.0**70, -(2.0**70))), entry(915, "adj:15"))  # type: ignore[arg-type]


def test_a_posting_must_be_in_the_unit_of_its_account(booked: Engine) -> None:
    kpi_as_money = POSTING.format(id=916, line=1, count=2, account="channel:app:kpi", unit="CNY",
                                  amount=5)  # fmt: skip
    refused(booked, kpi_as_money)


def test_a_credit_must_name_a_stored_revenue_event(booked: Engine) -> None:
    credit = ENTRY.format(
        id=905, key="revenue:NOPE", kind="credit", event="'NOPE'", reverses="NULL", ts=TS,
        period="2026-10", count=2,
    )  # fmt: skip
    refused(booked, *legs(905), credit)
    assert scalar(booked, "SELECT COUNT(*) FROM journal_entry WHERE id = 905") == 0


def test_a_revenue_event_must_name_a_stored_lead(booked: Engine) -> None:
    copy_of_e1 = (
        "INSERT INTO revenue_event (event_id, batch_id, line, external_id, lead_id, "
        "revenue_type, amount_fen, occurred_at, channel) "
        "SELECT 'E2', batch_id, line, external_id, 999999, revenue_type, amount_fen, "
        "occurred_at, channel FROM revenue_event WHERE event_id = 'E1'"
    )
    refused(booked, copy_of_e1)
    assert scalar(booked, "SELECT COUNT(*) FROM revenue_event WHERE event_id = 'E2'") == 0


def test_one_event_naming_no_lead_among_many_refuses_the_statement(booked: Engine) -> None:
    """The check counts the statement's missing leads (migration 0030): one is enough."""
    copies = (
        "INSERT INTO revenue_event (event_id, batch_id, line, external_id, lead_id, "
        "revenue_type, amount_fen, occurred_at, channel) "
        "SELECT 'M' || n, batch_id, line, external_id, CASE WHEN n = 37 THEN 999999 "
        "ELSE lead_id END, revenue_type, amount_fen, occurred_at, channel "
        "FROM revenue_event CROSS JOIN (SELECT 1 AS n UNION ALL SELECT 37 UNION ALL SELECT 2) k "
        "WHERE event_id = 'E1'"
    )
    refused(booked, copies)
    assert scalar(booked, "SELECT COUNT(*) FROM revenue_event WHERE event_id LIKE 'M%'") == 0

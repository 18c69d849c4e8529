"""The audit log's hash chain: sealing links every record once, and verify catches tampering."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest
from sqlalchemy import text
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import DBAPIError
from typer.testing import CliRunner

from app import audit, audit_chain
from app.cli import cli
from app.config import Settings, get_settings
from app.db import session_scope

runner = CliRunner()


def add_records(engine: Engine, count: int, *, start: int = 0) -> None:
    with session_scope(engine) as session:
        for i in range(start, start + count):
            audit.record(session, actor="hq1", action="lead.reveal", entity_type="lead",
                         entity_id=i, detail={"reason": f"回访 {i}"})  # fmt: skip


def seal(engine: Engine) -> audit_chain.SealResult:
    with session_scope(engine) as session:
        return audit_chain.seal(session)


def verify(engine: Engine, anchor: tuple[int, str] | None = None) -> audit_chain.ChainReport:
    with session_scope(engine) as session:
        return audit_chain.verify(session, anchor=anchor)


def record_ids(engine: Engine) -> list[int]:
    with engine.connect() as conn:
        return [int(r[0]) for r in conn.execute(text("SELECT id FROM audit_log ORDER BY id"))]


@pytest.fixture
def o2o(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Iterator[CliRunner]:
    monkeypatch.setenv("O2O_DATABASE_URL", settings.database_url)
    monkeypatch.setenv("O2O_SECRET_KEY", settings.secret_key)
    get_settings.cache_clear()
    yield runner
    get_settings.cache_clear()


def test_sealing_links_every_record_once_and_verify_passes(engine: Engine, o2o: CliRunner) -> None:
    add_records(engine, 7)
    first = seal(engine)
    assert (first.sealed, first.pending, first.head_id) == (7, 0, record_ids(engine)[-1])
    assert seal(engine).sealed == 0  # nothing new, nothing linked twice
    add_records(engine, 3, start=7)
    result = o2o.invoke(cli, ["audit", "verify"])
    assert result.exit_code == 0, result.output
    report = verify(engine)
    assert (report.records, report.sealed, report.problems) == (10, 10, [])
    assert f"head {report.head_id} {report.head_hash}" in result.output
    print(f"metric=audit_unsealed_after_verify value={report.pending} threshold=0")


def _unguard(conn: Connection, table: str) -> None:
    """What an attacker with database rights does first: drop the append-only trigger."""
    if conn.dialect.name == "sqlite":
        conn.execute(text(f"DROP TRIGGER {table}_append_only_update"))
        conn.execute(text(f"DROP TRIGGER {table}_append_only_delete"))
    else:
        conn.execute(text(f"DROP TRIGGER {table}_append_only ON {table}"))


# Each tampering starts at ids[0] and returns the id of the first record verify must name.
def _change_detail(conn: Connection, ids: list[int]) -> int:
    conn.execute(text("UPDATE audit_log SET detail = '{}' WHERE id = :id"), {"id": ids[0]})
    return ids[0]


def _delete_record(conn: Connection, ids: list[int]) -> int:
    conn.execute(text("DELETE FROM audit_log WHERE id = :id"), {"id": ids[0]})
    return ids[0]


def _delete_record_and_link(conn: Connection, ids: list[int]) -> int:
    _unguard(conn, "audit_seal")
    conn.execute(text("DELETE FROM audit_log WHERE id = :id"), {"id": ids[0]})
    conn.execute(text("DELETE FROM audit_seal WHERE audit_id = :id"), {"id": ids[0]})
    return ids[1]  # the next link no longer follows its predecessor


def _swap_two(conn: Connection, ids: list[int]) -> int:
    swap = "UPDATE audit_log SET id = :to WHERE id = :id"
    conn.execute(text(swap), {"id": ids[0], "to": -1})
    conn.execute(text(swap), {"id": ids[1], "to": ids[0]})
    conn.execute(text(swap), {"id": -1, "to": ids[1]})
    return ids[0]


def test_verify_names_the_first_tampered_record(engine: Engine, o2o: CliRunner) -> None:
    """Tampering of each kind, from the end of the chain backwards: each time, the earliest
    tampered record is the one named, and the ones after it are still reported."""
    add_records(engine, 30)
    seal(engine)
    ids = record_ids(engine)
    tamperings = [  # (kind, what to do, where it starts)
        ("reordered", _swap_two, 20),
        ("deleted_with_its_link", _delete_record_and_link, 14),
        ("deleted", _delete_record, 8),
        ("changed", _change_detail, 3),
    ]
    with engine.begin() as conn:
        _unguard(conn, "audit_log")
    found: list[int] = []
    for how, tamper, at in tamperings:
        with engine.begin() as conn:
            first_bad = tamper(conn, ids[at:])
        result = o2o.invoke(cli, ["audit", "verify"])
        assert result.exit_code == 1
        assert f"first bad record: audit record {first_bad}:" in result.output
        named = [int(problem.split()[2].rstrip(":")) for problem in verify(engine).problems]
        assert named[0] == first_bad
        assert set(found) <= set(named)  # the later ones are still reported
        found.append(first_bad)
        print(f"metric=tamper_{how}_detected value=1 threshold=1")


def test_a_rewritten_chain_passes_alone_but_not_against_a_kept_anchor(engine: Engine) -> None:
    """A chain proves nothing against someone who recomputes it all: keep the head elsewhere."""
    add_records(engine, 4)
    head = seal(engine)
    assert head.head_id is not None
    anchor = (head.head_id, head.head_hash)
    assert verify(engine, anchor).problems == []
    with engine.begin() as conn:
        _unguard(conn, "audit_log")
        _unguard(conn, "audit_seal")
        conn.execute(text("UPDATE audit_log SET actor = 'nobody'"))
        conn.execute(text("DELETE FROM audit_seal"))
    seal(engine)
    assert verify(engine).problems == []
    assert verify(engine, anchor).problems == [
        f"audit record {anchor[0]}: the chain no longer has the anchored hash {anchor[1]}"
    ]


def test_links_and_marks_are_append_only(engine: Engine) -> None:
    add_records(engine, 2)
    seal(engine)
    for sql in ("UPDATE audit_seal SET hash = 'x'", "DELETE FROM audit_seal_mark"):
        with pytest.raises(DBAPIError, match="append-only"), engine.begin() as conn:
            conn.execute(text(sql))


def test_a_record_committed_after_a_later_one_is_not_skipped(engine: Engine) -> None:
    """PostgreSQL: ids are drawn in one order and committed in another; sealing must wait."""
    if engine.dialect.name == "sqlite":
        pytest.skip("SQLite has one writer: records commit in id order")
    add_records(engine, 1)
    assert seal(engine).sealed == 1
    with session_scope(engine) as slow:
        audit.record(slow, actor="sz1", action="lead.reveal", entity_type="lead", entity_id=1)
        slow.flush()  # its id is drawn, its transaction still open
        add_records(engine, 2, start=10)  # later ids, committed first
        early = seal(engine)
        assert (early.sealed, early.pending) == (0, 2)  # not past the open transaction
    late = seal(engine)
    assert (late.sealed, late.pending) == (3, 0)
    report = verify(engine)
    assert (report.sealed, report.problems) == (4, [])
    assert late.head_id == max(record_ids(engine))
    print(f"metric=audit_records_skipped value={report.records - report.sealed} threshold=0")


def test_concurrent_sealers_link_each_record_once(engine: Engine) -> None:
    add_records(engine, 40)
    barrier = threading.Barrier(4)
    errors: list[BaseException] = []

    def sealer() -> None:
        barrier.wait()
        try:
            seal(engine)
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=sealer) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    seal(engine)
    report = verify(engine)
    assert (report.sealed, report.problems) == (40, [])

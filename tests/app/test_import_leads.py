"""Lead import: streaming, all-or-nothing, idempotent, customers linked by keyed mobile hash."""

from __future__ import annotations

from importlib.util import module_from_spec, spec_from_file_location
from pathlib import Path

import pytest
from sqlmodel import select

from app.config import Settings
from app.db import make_engine, session_scope
from app.errors import FileRejected
from app.imports.report import ImportReport
from app.leads.importer import import_leads
from app.leads.rows import solo_customer_key
from app.migrations import REPO_ROOT
from app.ownership.service import take_customer
from app.privacy.cipher import MobileCipher
from app.tables import AuditRecord, Branch, Customer, Lead
from app.tables.base import utcnow
from tests.app.factories import load_branches, write

LEADS_CSV = """external_id,channel,name,mobile,tier,lat,lon,region_code,acquired_at
A1,app,张三,13800138000,affluent,22.54,114.06,,2026-11-01T09:30:00
A2,app,李四,+86 139-1234-5678,,,,440304,2026-11-01T10:00:00+08:00
A3,app,王五,,mass,,,,
"""


def _import(settings: Settings, path: Path, channel: str | None = None) -> ImportReport:
    with session_scope(make_engine(settings)) as session:
        return import_leads(
            session,
            path=path,
            actor="test",
            secret=settings.customer_key,
            channel=channel,
            batch_rows=2,
        )


def _leads(settings: Settings) -> dict[str, Lead]:
    with session_scope(make_engine(settings)) as session:
        return {lead.external_id: lead for lead in session.exec(select(Lead))}


def test_leads_are_imported_with_resolved_locations(settings: Settings, tmp_path: Path) -> None:
    report = _import(settings, write(tmp_path, "leads.csv", LEADS_CSV))
    assert (report.rows, report.inserted) == (3, 3)
    leads = _leads(settings)
    assert leads["A1"].location_source == "coordinates"
    assert leads["A1"].tier == "affluent"
    assert leads["A2"].location_source == "region_code"
    assert MobileCipher(settings.data_key_bytes).open(leads["A2"].mobile) == "13912345678"
    assert 22.3 < leads["A2"].lat < 22.8  # type: ignore[operator]
    assert leads["A3"].location_source is None
    assert leads["A3"].lat is None
    assert leads["A1"].acquired_at is not None
    assert leads["A1"].acquired_at.isoformat() == "2026-11-01T01:30:00+00:00"
    assert all(lead.status == "new" for lead in leads.values())


def test_reimporting_the_same_file_changes_nothing(settings: Settings, tmp_path: Path) -> None:
    path = write(tmp_path, "leads.csv", LEADS_CSV)
    _import(settings, path)
    again = _import(settings, path)
    assert (again.inserted, again.unchanged) == (0, 3)
    assert len(_leads(settings)) == 3


def test_the_same_mobile_in_another_channel_links_to_the_same_customer(
    settings: Settings, tmp_path: Path
) -> None:
    _import(settings, write(tmp_path, "a.csv", LEADS_CSV))
    other = "external_id,mobile\nW9,138 0013 8000\n"
    _import(settings, write(tmp_path, "w.csv", other), channel="wechat")
    leads = _leads(settings)
    assert leads["W9"].channel == "wechat"
    assert leads["W9"].customer_id == leads["A1"].customer_id is not None
    with session_scope(make_engine(settings)) as session:
        customers = session.exec(select(Customer)).all()
    assert len(customers) == 3  # A1/W9 share one; A2 has its own; so has A3, with no mobile
    assert all("13800138000" not in c.customer_key for c in customers)


def test_a_lead_without_a_mobile_is_a_customer_of_its_own_found_again_on_reimport(
    settings: Settings, tmp_path: Path
) -> None:
    path = write(tmp_path, "leads.csv", LEADS_CSV)
    _import(settings, path)
    _import(settings, path)
    again = "external_id,channel\nA3,app\nA4,app\n"  # A3 unchanged, A4 new and also solo
    _import(settings, write(tmp_path, "again.csv", again))
    leads = _leads(settings)
    with session_scope(make_engine(settings)) as session:
        keys = {c.id: c.customer_key for c in session.exec(select(Customer))}
    assert keys[leads["A3"].customer_id] == solo_customer_key("app", "A3")
    assert leads["A4"].customer_id not in {leads[x].customer_id for x in ("A1", "A2", "A3")}
    assert len(keys) == 4  # no second customer for A3


def test_the_migration_keys_solo_customers_as_the_import_does() -> None:
    path = REPO_ROOT / "alembic" / "versions" / "20261206_0024_every_lead_a_customer.py"
    spec = spec_from_file_location("migration_0024", path)
    assert spec is not None
    assert spec.loader is not None
    frozen = module_from_spec(spec)
    spec.loader.exec_module(frozen)
    for channel, external_id in (("app", "A3"), ("微信", "外部-1"), ("a", "b\x1fc")):
        assert frozen.solo_customer_key(channel, external_id) == solo_customer_key(
            channel, external_id
        )


def test_bad_rows_reject_the_whole_file_with_line_and_column(
    settings: Settings, tmp_path: Path
) -> None:
    bad = (
        "external_id,channel,mobile,lat,lon,region_code,tier,acquired_at\n"
        "OK1,app,13800138000,22.5,114.0,,,\n"
        ",app,,,,,,\n"
        "B2,app,12345,,,,,\n"
        "B3,app,,91,114.0,,,\n"
        "B4,app,,22.5,,,,\n"
        "B5,app,,,,999999,,\n"
        "B6,app,,,,,Gold Tier,\n"
        "B7,app,,,,,,yesterday\n"
        "B8,,,,,,,\n"
        "B9,app,,,,,vip,\n"
    )
    with pytest.raises(FileRejected) as caught:
        _import(settings, write(tmp_path, "bad.csv", bad))
    found = [(e.line, e.column) for e in caught.value.errors]
    assert found == [
        (3, "external_id"),
        (4, "mobile"),
        (5, "lat"),
        (6, "lon"),
        (7, "region_code"),
        (8, "tier"),
        (9, "acquired_at"),
        (10, "channel"),
        (11, "tier"),
    ]
    assert _leads(settings) == {}


def test_a_repeated_external_id_in_one_file_is_an_error(settings: Settings, tmp_path: Path) -> None:
    content = "external_id,channel\nX,app\nY,app\nX,app\nX,wechat\n"
    with pytest.raises(FileRejected) as caught:
        _import(settings, write(tmp_path, "dup.csv", content))
    assert [(e.line, e.column) for e in caught.value.errors] == [(4, "external_id")]
    assert _leads(settings) == {}


def test_a_repeated_key_already_stored_is_an_error_too(settings: Settings, tmp_path: Path) -> None:
    # Both rows of a stored key are left out of the insert; the repeat must still be named.
    _import(settings, write(tmp_path, "first.csv", "external_id,channel\nX,app\n"))
    content = "external_id,channel\nY,app\nX,app\nX,app\n"
    with pytest.raises(FileRejected) as caught:
        _import(settings, write(tmp_path, "again.csv", content))
    assert [(e.line, e.column) for e in caught.value.errors] == [(4, "external_id")]
    assert set(_leads(settings)) == {"X"}


def test_a_refused_repeat_writes_no_customer_even_if_the_caller_goes_on(
    settings: Settings, tmp_path: Path
) -> None:
    content = "external_id,channel,mobile\nX,app,13800138000\nX,app,13900139000\n"
    with session_scope(make_engine(settings)) as session:
        with pytest.raises(FileRejected):
            import_leads(session, path=write(tmp_path, "dup.csv", content), actor="test",
                         secret=settings.customer_key)  # fmt: skip
        assert session.exec(select(Customer)).all() == []
        assert session.exec(select(Lead)).all() == []


def test_an_import_is_audited(settings: Settings, tmp_path: Path) -> None:
    _import(settings, write(tmp_path, "leads.csv", LEADS_CSV))
    with session_scope(make_engine(settings)) as session:
        actions = [r.action for r in session.exec(select(AuditRecord))]
    assert actions == ["import.leads"]


def test_a_new_lead_of_an_owned_customer_joins_its_owner_not_the_pool(
    settings: Settings, tmp_path: Path
) -> None:
    engine = make_engine(settings)
    load_branches(engine, tmp_path)
    _import(settings, write(tmp_path, "a.csv", LEADS_CSV))
    with session_scope(engine) as session:
        branch = session.exec(select(Branch).where(Branch.code == "SZ-FT")).one()
        first = session.exec(select(Lead).where(Lead.external_id == "A1")).one()
        assert first.id is not None
        assert branch.id is not None
        take_customer(session, customer_id=first.customer_id, lead_ids=[first.id],
                      branch_id=branch.id, at=utcnow(), opened_by="transfer")  # fmt: skip
    report = _import(
        settings,
        write(tmp_path, "w.csv", "external_id,mobile\nW1,13800138000\nW2,13700137000\n"),
        channel="wechat",
    )
    leads = _leads(settings)
    assert report.linked == 1
    assert (leads["W1"].status, leads["W1"].branch_id) == ("assigned", branch.id)
    assert leads["W2"].status == "new"

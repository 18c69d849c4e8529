"""The audit log page (issue 17.3): HQ and auditors search by user, action, lead and time,
page through the records and export them; the export is itself recorded."""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi.testclient import TestClient
from sqlalchemy import func
from sqlalchemy.engine import Engine
from sqlmodel import select

from app.db import session_scope
from app.tables import AuditRecord
from tests.web.helpers import sign_in


def _record(engine: Engine, actor: str, action: str, lead: int | None = None,
            at: datetime | None = None, detail: str = "{}") -> None:  # fmt: skip
    with session_scope(engine) as session:
        session.add(AuditRecord(actor=actor, action=action, entity_type="lead" if lead else "round",
                                entity_id=str(lead) if lead else "7", detail=detail,
                                at=at or datetime(2026, 11, 17, 2, 0, tzinfo=UTC)))  # fmt: skip


def _rows(page: str) -> str:
    return page[page.index('data-testid="audit-table"') :]


def test_hq_finds_records_by_user_action_lead_and_day(
    web: TestClient, engine: Engine, branch_ids: dict[str, int]
) -> None:
    _record(engine, "sz1", "lead.returned", lead=41)
    _record(engine, "sz1", "lead.reveal_mobile", lead=42)
    _record(engine, "hq1", "round.commit")
    _record(engine, "bj1", "lead.contacted", lead=41, at=datetime(2026, 11, 10, 2, tzinfo=UTC))
    sign_in(web, "hq1")
    by_user = _rows(web.get("/audit", params={"actor": "sz1"}).text)
    assert "线索 #41" in by_user
    assert "线索 #42" in by_user
    assert "round.commit" not in by_user
    by_group = _rows(web.get("/audit", params={"action": "lead"}).text)
    assert by_group.count('class="sub mono">lead.') == 3
    by_lead = _rows(web.get("/audit", params={"lead": "#41"}).text)
    assert "lead.returned" in by_lead
    assert "lead.contacted" in by_lead
    assert "reveal_mobile" not in by_lead
    by_day = _rows(web.get("/audit", params={"start": "2026-11-10", "end": "2026-11-10"}).text)
    assert "lead.contacted" in by_day
    assert "lead.returned" not in by_day


def test_bad_filters_are_explained_in_chinese_and_kept(
    web: TestClient, branch_ids: dict[str, int]
) -> None:
    sign_in(web, "aud1")
    bad = web.get("/audit", params={"lead": "abc", "actor": "sz1"})
    assert bad.status_code == 422
    assert "线索编号应为数字" in bad.text
    assert 'value="sz1"' in bad.text
    reversed_ = web.get("/audit", params={"start": "2026-11-20", "end": "2026-11-01"})
    assert "结束日期早于开始日期" in reversed_.text


def test_the_export_escapes_formulas_and_is_recorded(
    web: TestClient, engine: Engine, branch_ids: dict[str, int]
) -> None:
    _record(engine, "=cmd()", "lead.returned", lead=41, detail='{"reason": "+SUM(A1)"}')
    sign_in(web, "aud1")
    csv = web.get("/audit/export.csv", params={"action": "lead.returned"})
    assert csv.status_code == 200
    lines = csv.text.splitlines()
    assert lines[0] == "id,at,actor,action,entity_type,entity_id,request_id,detail"
    assert ",'=cmd(),lead.returned,lead,41,," in lines[1]
    with session_scope(engine) as session:
        exported = select(func.count()).where(AuditRecord.action == "audit.exported")
        assert session.exec(exported).one() == 1


def test_branch_staff_and_finance_cannot_read_the_audit_log(
    web: TestClient, branch_ids: dict[str, int]
) -> None:
    for user in ("sz1", "fin1"):
        web.cookies.clear()
        sign_in(web, user)
        assert web.get("/audit").status_code == 403
        assert web.get("/audit/export.csv").status_code == 403

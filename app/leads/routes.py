"""HTTP: GET /api/v1/leads and /api/v1/leads/{id}."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from app.auth import Principal, require_roles
from app.deps import SessionDep, SettingsDep
from app.leads import service
from app.leads.repository import LeadFilter
from app.leads.schemas import LeadList, LeadRead
from app.tables.lead import LEAD_STATUSES

router = APIRouter(prefix="/api/v1/leads", tags=["leads"])
Reader = Annotated[Principal, require_roles("hq", "branch", "auditor")]
StatusParam = Annotated[str | None, Query(pattern="^(" + "|".join(LEAD_STATUSES) + ")$")]


@router.get("", response_model=LeadList)
def list_leads(
    principal: Reader,
    session: SessionDep,
    settings: SettingsDep,
    status: StatusParam = None,
    branch: Annotated[str | None, Query(max_length=32)] = None,
    channel: Annotated[str | None, Query(max_length=64)] = None,
    tier: Annotated[str | None, Query(max_length=32)] = None,
    limit: Annotated[int | None, Query(ge=1)] = None,
    offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
) -> LeadList:
    flt = LeadFilter(status=status, branch_code=branch, channel=channel, tier=tier)
    return service.list_leads(
        session, principal=principal, flt=flt, limit=limit or settings.default_page_size,
        offset=offset, max_limit=settings.max_page_size,
    )  # fmt: skip


@router.get("/{lead_id}", response_model=LeadRead)
def get_lead(lead_id: int, principal: Reader, session: SessionDep) -> LeadRead:
    return service.get_lead(session, principal=principal, lead_id=lead_id)

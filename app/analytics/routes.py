"""HTTP: GET /api/v1/analytics/funnel (JSON, or CSV with format=csv)."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from fastapi import APIRouter, Query
from starlette.responses import Response

from app.analytics.export import csv_download
from app.analytics.funnel import DIMENSIONS
from app.analytics.schemas import FunnelRead
from app.analytics.service import funnel_for
from app.auth import Principal, require_roles
from app.deps import SessionDep, SettingsDep

router = APIRouter(prefix="/api/v1/analytics", tags=["analytics"])
Reader = Annotated[Principal, require_roles("hq", "branch", "auditor")]
ByParam = Annotated[str, Query(pattern="^(" + "|".join(DIMENSIONS) + ")$")]


@router.get("/funnel", response_model=FunnelRead)
def get_funnel(
    principal: Reader,
    session: SessionDep,
    settings: SettingsDep,
    by: ByParam = "channel",
    start: Annotated[date | None, Query(alias="from")] = None,
    end: Annotated[date | None, Query(alias="to")] = None,
    format: Annotated[Literal["json", "csv"], Query()] = "json",
) -> FunnelRead | Response:
    found = funnel_for(session, principal=principal, settings=settings, by=by, start=start,
                       end=end)  # fmt: skip
    return csv_download(found) if format == "csv" else FunnelRead.of(found)

"""HTTP for HQ: POST /api/v1/privacy/subjects/export and /erase (one person, by mobile).

POST with a JSON body, not GET with a query: the number stays out of URLs and access logs.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field

from app.auth import Principal, require_roles
from app.deps import SessionDep, SettingsDep
from app.privacy import subjects

router = APIRouter(prefix="/api/v1/privacy/subjects", tags=["privacy"])
Headquarters = Annotated[Principal, require_roles("hq")]


class SubjectRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    mobile: str = Field(min_length=1, max_length=32)


class ErasureRequest(SubjectRequest):
    reason: str = Field(min_length=1, max_length=500)


class Erased(BaseModel):
    lead_ids: list[int]


@router.post("/export")
def export_subject(
    body: SubjectRequest, principal: Headquarters, session: SessionDep, settings: SettingsDep
) -> dict[str, Any]:
    return subjects.export_subject(
        session, mobile=body.mobile, secret=settings.customer_key, actor=principal.username
    )


@router.post("/erase", response_model=Erased)
def erase_subject(
    body: ErasureRequest, principal: Headquarters, session: SessionDep, settings: SettingsDep
) -> Erased:
    ids = subjects.erase_subject(
        session, mobile=body.mobile, reason=body.reason, secret=settings.customer_key,
        actor=principal.username,
    )  # fmt: skip
    return Erased(lead_ids=ids)

"""HTTP: GET /api/v1/leads and /api/v1/leads/{id}."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query, Response
from starlette.concurrency import run_in_threadpool

from app.auth import CurrentPrincipal, PendingCaller, Principal, require_roles, require_roles_later
from app.deps import SessionDep, SettingsDep, end_read, read_only
from app.ids import LeadId
from app.leads import followup, service
from app.leads.repository import LeadFilter
from app.leads.reveal import reveal_mobile
from app.leads.schemas import LeadList, LeadRead, ReturnRequest, RevealedMobile, TransferRequest
from app.tables.lead import LEAD_STATUSES

router = APIRouter(prefix="/api/v1/leads", tags=["leads"])
READERS = ("hq", "branch", "auditor")
Reader = Annotated[Principal, require_roles(*READERS)]
StatusParam = Annotated[str | None, Query(pattern="^(" + "|".join(LEAD_STATUSES) + ")$")]


@router.get("", response_model=LeadList)
async def list_leads(
    caller: Annotated[PendingCaller, require_roles_later(*READERS)],
    session: SessionDep,
    settings: SettingsDep,
    status: StatusParam = None,
    branch: Annotated[str | None, Query(max_length=32)] = None,
    channel: Annotated[str | None, Query(max_length=64)] = None,
    tier: Annotated[str | None, Query(max_length=32)] = None,
    sort: Annotated[Literal["id", "oldest", "newest"], Query()] = "id",
    q: Annotated[str | None, Query(max_length=64)] = None,
    limit: Annotated[int | None, Query(ge=1)] = None,
    offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
) -> Response:
    """The most frequent request of all (every branch user, all day): the caller's check, the
    page, its JSON and the end of its read transaction in one worker-thread hop. As a sync
    endpoint it took four (the principal, the endpoint, FastAPI's check of the returned model,
    the session's end), each a thread wake-up: a fifth of a list's CPU under load (issue 18.2,
    bench/RESULTS.md). The page is built as `LeadList`, so it is checked on the way, and
    `response_model` documents it."""
    flt = LeadFilter(status=status, branch_code=branch, channel=channel, tier=tier, sort=sort,
                     search=q)  # fmt: skip

    def page_json() -> bytes:
        read_only(session)
        page = service.list_leads(
            session,
            principal=caller.principal(session),
            flt=flt,
            limit=limit or settings.default_page_size,
            offset=offset,
            max_limit=settings.max_page_size,
            secret=settings.customer_key,
        )
        end_read(session)
        return page.model_dump_json().encode()

    return Response(await run_in_threadpool(page_json), media_type="application/json")


@router.get("/{lead_id}", response_model=LeadRead)
def get_lead(lead_id: LeadId, principal: Reader, session: SessionDep) -> LeadRead:
    return service.get_lead(session, principal=principal, lead_id=lead_id)


Worker = Annotated[Principal, require_roles("branch")]
HQ = Annotated[Principal, require_roles("hq")]


@router.post("/{lead_id}/contacted", response_model=LeadRead)
def mark_contacted(lead_id: LeadId, principal: Worker, session: SessionDep) -> LeadRead:
    followup.mark_contacted(session, principal=principal, lead_id=lead_id)
    return service.get_lead(session, principal=principal, lead_id=lead_id)


@router.post("/{lead_id}/converted", response_model=LeadRead)
def mark_converted(lead_id: LeadId, principal: Worker, session: SessionDep) -> LeadRead:
    followup.mark_converted(session, principal=principal, lead_id=lead_id)
    return service.get_lead(session, principal=principal, lead_id=lead_id)


@router.post("/{lead_id}/return", status_code=204)
def return_lead(
    lead_id: LeadId, body: ReturnRequest, principal: Worker, session: SessionDep
) -> None:
    followup.return_lead(session, principal=principal, lead_id=lead_id, reason=body.reason)


@router.post("/{lead_id}/transfer", response_model=LeadRead)
def transfer_lead(
    lead_id: LeadId, body: TransferRequest, principal: HQ, session: SessionDep
) -> LeadRead:
    followup.transfer_lead(
        session,
        principal=principal,
        lead_id=lead_id,
        branch_code=body.branch_code,
        reason=body.reason,
        override=body.override,
    )
    return service.get_lead(session, principal=principal, lead_id=lead_id)


@router.post("/{lead_id}/reveal", response_model=RevealedMobile)
def reveal(
    lead_id: LeadId, principal: CurrentPrincipal, session: SessionDep, settings: SettingsDep
) -> RevealedMobile:
    mobile = reveal_mobile(
        session, principal=principal, lead_id=lead_id, limit_per_hour=settings.reveal_limit_per_hour
    )
    return RevealedMobile(id=lead_id, mobile=mobile)

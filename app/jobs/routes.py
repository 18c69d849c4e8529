"""HTTP: jobs (HQ starts and cancels them; auditors may read them)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse
from sqlalchemy.engine import Engine

from app.auth import Principal, require_roles
from app.db import session_scope
from app.deps import SessionDep
from app.ids import JobId
from app.jobs import service
from app.jobs.schemas import JobList, JobRead

router = APIRouter(prefix="/api/v1/jobs", tags=["jobs"])
HQ = Annotated[Principal, require_roles("hq")]
Reader = Annotated[Principal, require_roles("hq", "auditor")]


@router.get("", response_model=JobList)
def list_jobs(
    principal: Reader,
    session: SessionDep,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> JobList:
    return service.list_jobs(session, limit=limit, offset=offset)


@router.get("/{job_id}", response_model=JobRead)
def get_job(job_id: JobId, principal: Reader, session: SessionDep) -> JobRead:
    return service.read_job(session, job_id=job_id)


@router.post("/{job_id}/cancel", response_model=JobRead, status_code=202)
def cancel_job(job_id: JobId, principal: HQ, request: Request, session: SessionDep) -> JobRead:
    """A queued job is cancelled; a running one stops before its next phase (202: asked)."""
    service.cancel_job(request.app.state.engine, job_id=job_id)
    return service.read_job(session, job_id=job_id)


def queued_response(engine: Engine, job_id: int) -> JSONResponse:
    """What the API answers when it queued a job: 202, the job, and where to follow it (read in
    a transaction of its own: the request's began before the job was recorded)."""
    with session_scope(engine) as session:
        job = service.read_job(session, job_id=job_id)
    return JSONResponse(
        jsonable_encoder(job), status_code=202, headers={"Location": f"/api/v1/jobs/{job_id}"}
    )

"""HTTP: allocation rounds (HQ runs them; auditors may read)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from app.auth import Principal, require_roles
from app.db import session_scope
from app.deps import SessionDep, SettingsDep
from app.ids import RoundId
from app.jobs.routes import queued_response
from app.jobs.schemas import JobRead
from app.rounds import queries, service
from app.rounds.job import start_round_job
from app.rounds.objective import RoundObjective
from app.rounds.scenario import scenario_from
from app.rounds.schemas import AssignmentList, RoundCreate, RoundRead
from app.rounds.whatif import run_whatif

router = APIRouter(prefix="/api/v1/rounds", tags=["rounds"])
HQ = Annotated[Principal, require_roles("hq")]
Reader = Annotated[Principal, require_roles("hq", "auditor")]


@router.post(
    "",
    response_model=RoundRead,
    status_code=201,
    responses={202: {"model": JobRead, "description": "Queued as a job (`?async=true`)."}},
)
async def create_round(
    body: RoundCreate,
    principal: HQ,
    request: Request,
    settings: SettingsDep,
    run_async: Annotated[bool, Query(alias="async")] = False,
) -> Any:
    """Solve (and commit) a round and answer it (201); with `?async=true`, queue it as a job
    and answer 202 at once, the job at `Location` (GET /api/v1/jobs/{id})."""
    # The round manages its own transactions (lock, solve, store, commit): see rounds/service.py.
    objective = RoundObjective(
        mode=body.objective,
        tier_weights_km=body.tier_weights_km,
        price_per_km_fen=body.price_per_km_fen,
    )
    params = service.RoundParams(
        balance_weight=body.balance_weight,
        max_distance_km=body.max_distance_km,
        objective=objective,
        reserve_for_arrivals=body.reserve_for_arrivals,
    )
    if run_async:
        job_id = await run_in_threadpool(
            start_round_job, request.app.state.engine, settings=settings,
            actor=principal.username, params=params, commit=body.commit,
        )  # fmt: skip
        return await run_in_threadpool(_queued, request, job_id)
    round_id = await run_in_threadpool(
        service.run_round,
        request.app.state.engine,
        settings=settings,
        actor=principal.username,
        params=params,
        commit=body.commit,
    )
    return await run_in_threadpool(_read, request, round_id)


@router.post("/whatif")
async def whatif(
    body: dict[str, Any], principal: HQ, request: Request, settings: SettingsDep
) -> dict[str, Any]:
    """Solve a scenario (contract §9 keys) on the live pool beside the current plan; only an audit
    record is written."""
    scenario = scenario_from(body)
    return await run_in_threadpool(
        run_whatif,
        request.app.state.engine,
        settings=settings,
        actor=principal.username,
        scenario=scenario,
    )


@router.get("", response_model=list[RoundRead])
def list_rounds(
    principal: Reader,
    session: SessionDep,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> list[RoundRead]:
    return queries.list_rounds(session, limit=limit, offset=offset)


@router.get("/{round_id}", response_model=RoundRead)
def get_round(round_id: RoundId, principal: Reader, session: SessionDep) -> RoundRead:
    return queries.read_round(session, round_id=round_id)


@router.get("/{round_id}/assignments", response_model=AssignmentList)
def list_assignments(
    round_id: RoundId,
    principal: Reader,
    session: SessionDep,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> AssignmentList:
    return queries.list_assignments(session, round_id=round_id, limit=limit, offset=offset)


@router.post(
    "/{round_id}/commit",
    response_model=RoundRead,
    responses={202: {"model": JobRead, "description": "Queued as a job (`?async=true`)."}},
)
async def commit_round(
    round_id: RoundId,
    principal: HQ,
    request: Request,
    settings: SettingsDep,
    run_async: Annotated[bool, Query(alias="async")] = False,
) -> Any:
    """Commit a preview and answer the round; with `?async=true`, queue the commit as a job
    and answer 202 at once (a preview that cannot be committed is refused at once, 409)."""
    if run_async:
        job_id = await run_in_threadpool(
            start_round_job, request.app.state.engine, settings=settings,
            actor=principal.username, params=service.RoundParams(), commit=True,
            round_id=round_id,
        )  # fmt: skip
        return await run_in_threadpool(_queued, request, job_id)
    await run_in_threadpool(
        service.commit_round,
        request.app.state.engine,
        settings=settings,
        actor=principal.username,
        round_id=round_id,
    )
    return await run_in_threadpool(_read, request, round_id)


@router.post("/{round_id}/cancel", response_model=RoundRead)
def cancel_round(round_id: RoundId, principal: HQ, session: SessionDep) -> RoundRead:
    service.cancel_round(session, actor=principal.username, round_id=round_id)
    session.flush()
    return queries.read_round(session, round_id=round_id)


def _queued(request: Request, job_id: int) -> JSONResponse:
    return queued_response(request.app.state.engine, job_id)


def _read(request: Request, round_id: int) -> RoundRead:
    with session_scope(request.app.state.engine) as session:
        return queries.read_round(session, round_id=round_id)

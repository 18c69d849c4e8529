"""Allocation rounds: HQ starts, previews, commits and cancels them; auditors read them."""

from __future__ import annotations

from typing import Annotated

from fastapi import Form, Query, Request
from fastapi.responses import RedirectResponse
from starlette.responses import Response

from app.auth import Principal
from app.deps import SessionDep, SettingsDep
from app.ids import RoundId
from app.rounds.job import start_round_job
from app.rounds.service import RoundParams, cancel_round
from app.web.pages.rounds import round_list, round_page
from app.web.routes.base import page_router
from app.web.session import form_roles, page_roles
from app.web.templating import render

router = page_router("/hq/rounds")
Viewer = Annotated[Principal, page_roles("hq", "auditor")]
HqForm = Annotated[Principal, form_roles("hq")]
Page = Annotated[int, Query(ge=1, le=1_000_000)]
DoneParam = Annotated[str, Query(pattern="^(previewed|committed|cancelled)?$")]
ShowParam = Annotated[str, Query(pattern="^(all|unassigned)$")]
WeightField = Annotated[float, Form(ge=0, le=1_000_000, allow_inf_nan=False)]
DistanceField = Annotated[float | None, Form(gt=0, le=20_000, allow_inf_nan=False)]
ModeField = Annotated[str, Form(pattern="^(preview|commit)$")]


def _to_round(round_id: int, done: str) -> Response:
    return RedirectResponse(f"/hq/rounds/{round_id}?done={done}", status_code=303)


@router.get("")
def rounds(request: Request, _viewer: Viewer, session: SessionDep, page: Page = 1) -> Response:
    return render(request, "hq_rounds.html", {"view": round_list(session, page=page)})


@router.post("")
def start_round(
    request: Request,
    principal: HqForm,
    settings: SettingsDep,
    mode: ModeField,
    balance_weight: WeightField = 0.0,
    max_distance_km: DistanceField = None,
) -> Response:
    """Queue the round as a job and show the job's page, which follows it to the round."""
    params = RoundParams(balance_weight=balance_weight, max_distance_km=max_distance_km)
    job_id = start_round_job(
        request.app.state.engine, settings=settings, actor=principal.username,
        params=params, commit=mode == "commit",
    )  # fmt: skip
    return RedirectResponse(f"/hq/jobs/{job_id}?follow=1", status_code=303)


@router.get("/{round_id}")
def round_detail(
    request: Request,
    round_id: RoundId,
    _viewer: Viewer,
    session: SessionDep,
    page: Page = 1,
    show: ShowParam = "all",
    done: DoneParam = "",
) -> Response:
    view = round_page(session, round_id=round_id, page=page, unassigned_only=show == "unassigned")
    return render(request, "hq_round.html", {"view": view, "show": show, "done": done})


@router.post("/{round_id}/commit")
def commit(
    request: Request, round_id: RoundId, principal: HqForm, settings: SettingsDep
) -> Response:
    """Queue the commit as a job (a big round's commit takes minutes) and show the job's page."""
    job_id = start_round_job(
        request.app.state.engine, settings=settings, actor=principal.username,
        params=RoundParams(), commit=True, round_id=round_id,
    )  # fmt: skip
    return RedirectResponse(f"/hq/jobs/{job_id}?follow=1", status_code=303)


@router.post("/{round_id}/cancel")
def cancel(round_id: RoundId, principal: HqForm, session: SessionDep) -> Response:
    cancel_round(session, actor=principal.username, round_id=round_id)
    return _to_round(round_id, "cancelled")

"""Allocation rounds: HQ starts, previews, commits and cancels them; auditors read them."""

from __future__ import annotations

from typing import Annotated

from fastapi import Form, Query, Request
from fastapi.responses import RedirectResponse
from starlette.responses import Response

from allocation.value import DEFAULT_PRICE_PER_KM_FEN
from app.auth import Principal
from app.db import session_scope
from app.deps import SessionDep, SettingsDep
from app.errors import AppError
from app.ids import RoundId
from app.rounds.job import start_round_job
from app.rounds.objective import RoundObjective
from app.rounds.reserve import MAX_RESERVE, ReserveAsked, parse_reserve
from app.rounds.service import RoundParams, cancel_round
from app.web.form_fields import FieldError, number_field
from app.web.messages import error_text
from app.web.pages.rounds import round_list, round_page
from app.web.routes.base import page_router
from app.web.session import form_roles, page_roles
from app.web.templating import render
from coded_messages import message

router = page_router("/hq/rounds")
Viewer = Annotated[Principal, page_roles("hq", "auditor")]
HqForm = Annotated[Principal, form_roles("hq")]
Page = Annotated[int, Query(ge=1, le=1_000_000)]
DoneParam = Annotated[str, Query(pattern="^(previewed|committed|cancelled)?$")]
ShowParam = Annotated[str, Query(pattern="^(all|unassigned)$")]
# Numbers are read as text, so that a bad one is said beside its field with what was typed.
TextField = Annotated[str, Form(max_length=40)]
ModeField = Annotated[str, Form(pattern="^(preview|commit)$")]
ObjectiveField = Annotated[str, Form(pattern="^(distance|tier_priority|expected_value)$")]


def _to_round(round_id: int, done: str) -> Response:
    return RedirectResponse(f"/hq/rounds/{round_id}?done={done}", status_code=303)


@router.get("")
def rounds(request: Request, _viewer: Viewer, session: SessionDep, page: Page = 1) -> Response:
    context = {"view": round_list(session, page=page), "form": {}, "errors": {}}
    return render(request, "hq_rounds.html", context)


@router.post("")
def start_round(
    request: Request,
    principal: HqForm,
    settings: SettingsDep,
    mode: ModeField,
    balance_weight: TextField = "0",
    max_distance_km: TextField = "",
    objective: ObjectiveField = "distance",
    price_per_km_fen: TextField = str(DEFAULT_PRICE_PER_KM_FEN),
    reserve_for_arrivals: TextField = "",
) -> Response:
    """Queue the round as a job and show the job's page, which follows it to the round; a bad
    field or another round's job: the form again, with what was typed and the reason."""
    form = {"balance_weight": balance_weight, "max_distance_km": max_distance_km, "mode": mode,
            "objective": objective, "price_per_km_fen": price_per_km_fen,
            "reserve_for_arrivals": reserve_for_arrivals}  # fmt: skip
    try:
        params = RoundParams(
            balance_weight=number_field(balance_weight, field="balance_weight", low=0,
                                        high=1_000_000) or 0.0,
            max_distance_km=number_field(max_distance_km, field="max_distance_km", low=0,
                                         high=20_000, optional=True, above_low=True),
            objective=RoundObjective(mode=objective, price_per_km_fen=int(number_field(
                price_per_km_fen, field="price_per_km_fen", low=1, high=10**9) or 1)),
            reserve_for_arrivals=_reserve_field(reserve_for_arrivals),
        )  # fmt: skip
        job_id = start_round_job(
            request.app.state.engine, settings=settings, actor=principal.username,
            params=params, commit=mode == "commit",
        )  # fmt: skip
    except AppError as refused:  # a bad field, another round running
        field = refused.field if isinstance(refused, FieldError) else "*"
        with session_scope(request.app.state.engine) as session:
            context = {"view": round_list(session, page=1), "form": form,
                       "errors": {field: error_text(refused)}}  # fmt: skip
            return render(request, "hq_rounds.html", context, status_code=refused.status)
    return RedirectResponse(f"/hq/jobs/{job_id}?follow=1", status_code=303)


def _reserve_field(text: str) -> ReserveAsked:
    try:
        return parse_reserve(text)
    except ValueError:
        said = message("round.reserve_invalid", text=text, high=MAX_RESERVE)
        raise FieldError(said, field="reserve_for_arrivals") from None


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

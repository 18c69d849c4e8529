"""What-if for HQ (issue 15.1): edit a scenario and see it beside the current plan; save
scenarios by name, load them again, and run several side by side. Only the saved scenarios
and the audit records are written: no lead, branch or round changes."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Annotated, Any

from fastapi import Form, Query, Request
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from app.auth import Principal
from app.config import Settings
from app.db import session_scope
from app.deps import SessionDep, SettingsDep
from app.errors import AppError
from app.rounds.saved_scenarios import (
    delete_scenario,
    save_scenario,
    saved_scenario,
    saved_scenarios,
    scenarios_to_compare,
)
from app.rounds.scenario import parse_scenario
from app.rounds.whatif import run_side_by_side, run_whatif
from app.web.messages import error_text
from app.web.routes.base import page_router
from app.web.session import form_roles, page_roles
from app.web.templating import render
from app.web.unit_of_work import change

router = page_router("/hq/whatif")
HqPage = Annotated[Principal, page_roles("hq")]
HqForm = Annotated[Principal, form_roles("hq")]
ScenarioField = Annotated[str, Form(max_length=200_000)]
NameField = Annotated[str, Form(max_length=200)]
COMPARE_MOST = 4  # scenarios side by side: each is a full solve of the pool
DONE = ("saved", "deleted")
EXAMPLE: dict[str, object] = {
    "capacity": {},
    "close": [],
    "open": [],
    "tiers": {},
    "max_distance_km": None,
    "balance_weight": 0,
}


@router.get("")
def whatif_form(
    request: Request, _hq: HqPage, session: SessionDep,
    load: Annotated[int | None, Query(ge=1)] = None,
    done: Annotated[str, Query(pattern="^(" + "|".join(("", *DONE)) + ")$")] = "",
) -> Response:  # fmt: skip
    form = {"scenario": json.dumps(EXAMPLE, ensure_ascii=False, indent=2), "name": ""}
    if load is not None:
        try:
            saved = saved_scenario(session, load)
        except AppError as missing:
            return _page(request, session, form=form, error=error_text(missing), status=404)
        form = {"scenario": saved.body, "name": saved.name}
    return _page(request, session, form=form, done=done)


@router.post("")
async def whatif_run(
    request: Request, principal: HqForm, settings: SettingsDep, scenario: ScenarioField,
    name: NameField = "", action: Annotated[str, Form(pattern="^(run|save)$")] = "run",
) -> Response:  # fmt: skip
    form = {"scenario": scenario, "name": name}
    if action == "save":
        return _change(request, form, lambda s: _saved_location(
            save_scenario(s, name=name, body=scenario, actor=principal.username).id))  # fmt: skip
    try:
        parsed = parse_scenario(scenario)
        result = await run_in_threadpool(
            run_whatif, request.app.state.engine, settings=settings,
            actor=principal.username, scenario=parsed,
        )  # fmt: skip
    except AppError as refused:
        return _refused(request, form, refused)
    return _fresh_page(request, form=form, result=result)


@router.post("/compare")
async def whatif_compare(
    request: Request, principal: HqForm, settings: SettingsDep,
    ids: Annotated[list[int], Form(max_length=50)] = [],  # noqa: B006 (FastAPI copies defaults)
) -> Response:  # fmt: skip
    form = {"scenario": json.dumps(EXAMPLE, ensure_ascii=False, indent=2), "name": ""}
    try:
        result = await run_in_threadpool(_side_by_side, request, settings, principal, ids)
    except AppError as refused:
        return _refused(request, form, refused)
    return _fresh_page(request, form=form, side_by_side=result, chosen=ids)


@router.post("/{scenario_id}/delete")
def whatif_delete(request: Request, scenario_id: int, hq: HqForm) -> Response:
    blank = {"scenario": json.dumps(EXAMPLE, ensure_ascii=False, indent=2), "name": ""}
    return _change(request, blank, lambda s: _deleted(s, scenario_id, hq.username))


def _side_by_side(
    request: Request, settings: Settings, principal: Principal, ids: list[int]
) -> dict[str, Any]:
    with session_scope(request.app.state.engine) as session:
        named = scenarios_to_compare(session, ids, most=COMPARE_MOST)
    return run_side_by_side(request.app.state.engine, settings=settings,
                            actor=principal.username, scenarios=named)  # fmt: skip


def _saved_location(scenario_id: int | None) -> str:
    return f"/hq/whatif?load={scenario_id}&done=saved"


def _deleted(session: Session, scenario_id: int, actor: str) -> str:
    delete_scenario(session, scenario_id=scenario_id, actor=actor)
    return "/hq/whatif?done=deleted"


def _change(request: Request, form: dict[str, str], action: Callable[[Session], str]) -> Response:
    """Done: to the address the action returns; refused: the page again with the reason."""
    return change(request, action, done=lambda location: location,
                  refused=lambda error: _refused(request, form, error))  # fmt: skip


def _refused(request: Request, form: dict[str, str], refused: AppError) -> Response:
    """The page again with what was typed and the reason beside it, in Chinese."""
    return _fresh_page(request, form=form, error=error_text(refused), status=refused.status)


def _fresh_page(request: Request, **context: Any) -> Response:
    with session_scope(request.app.state.engine) as session:
        return _page(request, session, **context)


def _page(
    request: Request, session: Session, *, form: dict[str, str], done: str = "",
    error: str | None = None, status: int = 200, result: dict[str, Any] | None = None,
    side_by_side: dict[str, Any] | None = None, chosen: list[int] | None = None,
) -> Response:  # fmt: skip
    context = {
        "form": form, "done": done, "error": error, "result": result,
        "side_by_side": side_by_side, "saved": saved_scenarios(session),
        "chosen": set(chosen or []), "compare_most": COMPARE_MOST,
    }  # fmt: skip
    return render(request, "hq_whatif.html", context, status_code=status)

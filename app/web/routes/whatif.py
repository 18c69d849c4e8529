"""What-if for HQ (issue 15.1): edit a scenario, see it beside the current plan; nothing saved."""

from __future__ import annotations

import json
from typing import Annotated

from fastapi import Form, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from app.auth import Principal
from app.deps import SettingsDep
from app.errors import InvalidInput
from app.rounds.scenario import parse_scenario
from app.rounds.whatif import run_whatif
from app.web.messages import error_text
from app.web.routes.base import page_router
from app.web.session import form_roles, page_roles
from app.web.templating import render

router = page_router("/hq/whatif")
HqPage = Annotated[Principal, page_roles("hq")]
HqForm = Annotated[Principal, form_roles("hq")]
ScenarioField = Annotated[str, Form(max_length=200_000)]
EXAMPLE: dict[str, object] = {
    "capacity": {},
    "close": [],
    "open": [],
    "tiers": {},
    "max_distance_km": None,
    "balance_weight": 0,
}


@router.get("")
def whatif_form(request: Request, _hq: HqPage) -> Response:
    text = json.dumps(EXAMPLE, ensure_ascii=False, indent=2)
    return render(request, "hq_whatif.html", {"scenario": text, "result": None, "error": None})


@router.post("")
async def whatif_run(
    request: Request, principal: HqForm, settings: SettingsDep, scenario: ScenarioField
) -> Response:
    try:
        parsed = parse_scenario(scenario)
        result = await run_in_threadpool(
            run_whatif, request.app.state.engine, settings=settings,
            actor=principal.username, scenario=parsed,
        )  # fmt: skip
    except InvalidInput as exc:
        context = {"scenario": scenario, "result": None, "error": error_text(exc)}
        return render(request, "hq_whatif.html", context, status_code=422)
    return render(
        request, "hq_whatif.html", {"scenario": scenario, "result": result, "error": None}
    )

"""The dashboard every role lands on after signing in."""

from __future__ import annotations

from fastapi import Request
from starlette.responses import Response

from app.deps import SessionDep, SettingsDep
from app.ownership.deadline import followup_rule
from app.web.pages.home import dashboard
from app.web.routes.base import page_router
from app.web.session import WebSessionDep
from app.web.templating import render

router = page_router()


@router.get("/")
def home(
    request: Request, web: WebSessionDep, session: SessionDep, settings: SettingsDep
) -> Response:
    dash = dashboard(session, principal=web.principal, followup=followup_rule(settings))
    return render(request, "home.html", {"dash": dash})

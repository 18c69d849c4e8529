"""The suspense workbench for finance (issue 17.3): revenue in ``suspense:unowned`` event by
event, reclassified to a branch or reversed, and the corrections above
O2O_CORRECTION_APPROVAL_FEN that wait for a second finance user.

Every change is the API's service call (`app.journal.service`), so the approval rule, the
audit records and the refusals are the same on every path. A refused form is shown again with
its message beside it, in Chinese, and with what was typed.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from fastapi import Form, Query, Request
from sqlmodel import Session
from starlette.responses import Response

from app.auth import Principal
from app.config import Settings
from app.db import session_scope
from app.deps import SessionDep, SettingsDep
from app.errors import AppError
from app.journal import service
from app.journal.schemas import CorrectionRequestRead
from app.web.messages import error_text
from app.web.pages.suspense import suspense_view
from app.web.routes.base import page_router
from app.web.session import form_roles, page_roles
from app.web.templating import render
from app.web.unit_of_work import change

router = page_router("/finance/suspense")
Reader = Annotated[Principal, page_roles("finance", "auditor")]
FinanceForm = Annotated[Principal, form_roles("finance")]
EventId = Annotated[str, Form(max_length=128)]
Text = Annotated[str, Form(max_length=400)]
DONE = ("reclassified", "reversed", "requested", "approved", "rejected")


@router.get("")
def suspense(
    request: Request, _reader: Reader, session: SessionDep, settings: SettingsDep,
    q: Annotated[str, Query(max_length=128)] = "",
    min_yuan: Annotated[str, Query(max_length=32)] = "",
    page: Annotated[int, Query(ge=1, le=1_000_000)] = 1,
    done: Annotated[str, Query(pattern="^(" + "|".join(("", *DONE)) + ")$")] = "",
) -> Response:  # fmt: skip
    query: dict[str, str | int] = {"q": q, "min_yuan": min_yuan, "page": page}
    return _page(request, session, settings, query=query, done=done)


@router.post("/reclassify")
def reclassify(request: Request, fin: FinanceForm, settings: SettingsDep, event: EventId,
               branch: Text, reason: Text) -> Response:  # fmt: skip
    form = {"action": "reclassify", "event": event, "branch": branch, "reason": reason}
    return _change(request, settings, form, "reclassified", lambda s: service.reclassify_event(
        s, event_id=event, branch_code=branch.strip(), reason=reason, actor=fin.username,
        settings=settings))  # fmt: skip


@router.post("/reverse")
def reverse(request: Request, fin: FinanceForm, settings: SettingsDep, event: EventId,
            reason: Text) -> Response:  # fmt: skip
    form = {"action": "reverse", "event": event, "reason": reason}
    return _change(request, settings, form, "reversed", lambda s: service.reverse_event_credit(
        s, event_id=event, reason=reason, actor=fin.username, settings=settings))  # fmt: skip


@router.post("/requests/{request_id}/approve")
def approve(request: Request, request_id: int, fin: FinanceForm, settings: SettingsDep) -> Response:
    return _change(request, settings, {"request": str(request_id)}, "approved",
                   lambda s: service.approve_correction(s, request_id=request_id,
                                                        actor=fin.username))  # fmt: skip


@router.post("/requests/{request_id}/reject")
def reject(request: Request, request_id: int, fin: FinanceForm, settings: SettingsDep) -> Response:
    return _change(request, settings, {"request": str(request_id)}, "rejected",
                   lambda s: service.reject_correction(s, request_id=request_id,
                                                       actor=fin.username))  # fmt: skip


def _change(request: Request, settings: Settings, form: dict[str, str], done: str,
            action: Callable[[Session], object]) -> Response:  # fmt: skip
    def refused(error: AppError) -> Response:
        with session_scope(request.app.state.engine) as session:
            return _page(request, session, settings, form=form, error=error_text(error),
                         status=error.status)  # fmt: skip

    def done_with(result: object) -> str:
        waiting = isinstance(result, CorrectionRequestRead) and result.status == "pending"
        return f"/finance/suspense?done={'requested' if waiting else done}"  # above the line

    return change(request, action, done=done_with, refused=refused)


def _page(
    request: Request, session: Session, settings: Settings, *,
    query: dict[str, str | int] | None = None, done: str = "",
    form: dict[str, str] | None = None, error: str | None = None, status: int = 200,
) -> Response:  # fmt: skip
    query = query or {}
    view = suspense_view(
        session, search=str(query.get("q", "")), min_yuan=str(query.get("min_yuan", "")),
        page=int(query.get("page", 1)), threshold_fen=settings.correction_approval_fen,
    )  # fmt: skip
    context = {"view": view, "done": done, "form": form or {}, "error": error}
    return render(request, "finance_suspense.html", context, status_code=status)

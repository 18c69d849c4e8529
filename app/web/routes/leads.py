"""Branch work: the inbox, one lead's page, follow-up actions and the audited number reveal."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from fastapi import Form, Query, Request
from fastapi.responses import RedirectResponse
from sqlmodel import Session
from starlette.responses import Response

from app.auth import Principal
from app.db import session_scope
from app.deps import SessionDep, SettingsDep
from app.errors import AppError
from app.ids import LeadId, NotificationId
from app.leads import followup
from app.notifications.inbox import mark_read
from app.ownership.deadline import followup_rule
from app.web.form_fields import FieldError, required_text
from app.web.messages import error_text
from app.web.pages.inbox import INBOX_STATUSES, SORTS, InboxQuery, inbox_page
from app.web.pages.lead import lead_view, revealed_lead_view
from app.web.routes.base import page_router
from app.web.session import form_roles, page_roles
from app.web.templating import render

router = page_router()
Worker = Annotated[Principal, page_roles("branch")]
Reader = Annotated[Principal, page_roles("hq", "branch", "auditor")]
WorkerForm = Annotated[Principal, form_roles("branch")]
RevealerForm = Annotated[Principal, form_roles("hq", "branch")]
HqForm = Annotated[Principal, form_roles("hq")]
StatusParam = Annotated[str, Query(pattern="^(" + "|".join(("", *INBOX_STATUSES)) + ")$")]
SortParam = Annotated[str, Query(pattern="^(" + "|".join(SORTS) + ")$")]
DoneParam = Annotated[str, Query(max_length=32)]
BackField = Annotated[str, Form(pattern="^(inbox)?$")]
# Read as text and checked by the route, so that a refusal keeps what was typed.
TextField = Annotated[str, Form(max_length=2_000)]


def _back_to(lead_id: int, done: str) -> Response:
    return RedirectResponse(f"/leads/{lead_id}?done={done}", status_code=303)


@router.get("/inbox")
def inbox(
    request: Request,
    principal: Worker,
    session: SessionDep,
    settings: SettingsDep,
    status: StatusParam = "",
    sort: SortParam = "oldest",
    page: Annotated[int, Query(ge=1, le=1_000_000)] = 1,
    q: Annotated[str, Query(max_length=64)] = "",
    done: DoneParam = "",
) -> Response:
    query = InboxQuery(status or None, sort, page, settings.default_page_size, q.strip() or None)
    view = inbox_page(session, principal=principal, query=query, followup=followup_rule(settings))
    return render(request, "inbox.html", {"inbox": view, "done": done, "asked": page})


@router.post("/inbox/notifications/{notification_id}/read")
def notification_read(
    notification_id: NotificationId, principal: WorkerForm, session: SessionDep
) -> Response:
    mark_read(session, principal=principal, notification_id=notification_id)
    return RedirectResponse("/inbox?done=notice_read", status_code=303)


@router.get("/leads/{lead_id}")
def lead_page(
    request: Request, lead_id: LeadId, principal: Reader, session: SessionDep, done: DoneParam = ""
) -> Response:
    view = lead_view(session, principal=principal, lead_id=lead_id)
    return render(request, "lead.html", {"view": view, "done": done, "form": {}, "errors": {}})


@router.post("/leads/{lead_id}/contacted")
def contacted(
    lead_id: LeadId, principal: WorkerForm, session: SessionDep, back: BackField = ""
) -> Response:
    followup.mark_contacted(session, principal=principal, lead_id=lead_id)
    if back == "inbox":  # the quick action in the inbox list stays in the list
        return RedirectResponse("/inbox?done=contacted", status_code=303)
    return _back_to(lead_id, "contacted")


@router.post("/leads/{lead_id}/converted")
def converted(lead_id: LeadId, principal: WorkerForm, session: SessionDep) -> Response:
    followup.mark_converted(session, principal=principal, lead_id=lead_id)
    return _back_to(lead_id, "converted")


@router.post("/leads/{lead_id}/return")
def return_lead(
    request: Request, lead_id: LeadId, principal: WorkerForm, reason: TextField = ""
) -> Response:
    def act(session: Session) -> None:
        why = required_text(reason, field="reason", max_chars=500)
        followup.return_lead(session, principal=principal, lead_id=lead_id, reason=why)

    form = {"action": "return", "reason": reason}
    if (refused := _unit_of_work(request, act)) is not None:
        return _lead_again(request, principal, lead_id, form, refused)
    # The lead has left this branch: its page would now answer 404, so go back to the inbox.
    return RedirectResponse("/inbox?done=returned", status_code=303)


@router.post("/leads/{lead_id}/transfer")
def transfer(
    request: Request, lead_id: LeadId, principal: HqForm, branch_code: TextField = "",
    reason: TextField = "", override: Annotated[str, Form(pattern=r"^(yes)?$")] = "",
) -> Response:  # fmt: skip
    def act(session: Session) -> None:
        followup.transfer_lead(
            session, principal=principal, lead_id=lead_id,
            branch_code=required_text(branch_code, field="branch_code", max_chars=32),
            reason=required_text(reason, field="transfer_reason", max_chars=500),
            override=override == "yes",
        )  # fmt: skip

    form = {"action": "transfer", "branch_code": branch_code, "reason": reason,
            "override": override}  # fmt: skip
    if (refused := _unit_of_work(request, act)) is not None:
        return _lead_again(request, principal, lead_id, form, refused)
    return _back_to(lead_id, "transferred")


def _unit_of_work(request: Request, act: Callable[[Session], None]) -> AppError | None:
    """Run `act` in its own transaction; the refusal, if any (nothing was written)."""
    try:
        with session_scope(request.app.state.engine) as session:
            act(session)
    except AppError as refused:
        return refused
    return None


def _lead_again(request: Request, principal: Principal, lead_id: int, form: dict[str, str],
                refused: AppError) -> Response:  # fmt: skip
    """The lead's page again, the refused form kept, its message beside the field at fault
    (or beside the form's button)."""
    field = refused.field if isinstance(refused, FieldError) else form["action"]
    with session_scope(request.app.state.engine) as session:
        view = lead_view(session, principal=principal, lead_id=lead_id)
        context = {"view": view, "done": "", "form": form, "errors": {field: error_text(refused)}}
        return render(request, "lead.html", context, status_code=refused.status)


@router.post("/leads/{lead_id}/reveal")
def reveal(
    request: Request,
    lead_id: LeadId,
    principal: RevealerForm,
    session: SessionDep,
    settings: SettingsDep,
) -> Response:
    view = revealed_lead_view(
        session, principal=principal, lead_id=lead_id, limit_per_hour=settings.reveal_limit_per_hour
    )
    # Shown in this response only: no redirect, so the number is in no URL and no history entry.
    return render(
        request, "lead.html", {"view": view, "done": "revealed", "form": {}, "errors": {}}
    )

"""Staff accounts for HQ (issue 17.3): create, deactivate, move, reset a password, unlock.

Every change goes through `app.users` (the CLI's services) and is audited there. A refused form
is shown again with its message beside it, in Chinese, and with what was typed (never the
password).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from fastapi import Form, Query, Request
from sqlmodel import Session
from starlette.responses import Response

from app.auth import Principal
from app.db import session_scope
from app.deps import SessionDep
from app.errors import AppError
from app.users.login import unlock
from app.users.service import create_user, deactivate_user, move_user, reset_password
from app.web.messages import error_text
from app.web.pages.users import branch_codes, user_rows
from app.web.routes.base import page_router
from app.web.session import form_roles, page_roles
from app.web.templating import render
from app.web.unit_of_work import change

router = page_router("/hq/users")
Viewer = Annotated[Principal, page_roles("hq", "auditor")]
HqForm = Annotated[Principal, form_roles("hq")]
Name = Annotated[str, Form(max_length=64)]
Secret = Annotated[str, Form(max_length=256)]
DONE = ("created", "deactivated", "moved", "password", "unlocked")


@router.get("")
def users_page(
    request: Request, _viewer: Viewer, session: SessionDep,
    done: Annotated[str, Query(pattern="^(" + "|".join(("", *DONE)) + ")$")] = "",
) -> Response:  # fmt: skip
    return _page(request, session, done=done)


@router.post("")
def create(request: Request, hq: HqForm, username: Name, role: Name, password: Secret,
           branch: Name = "") -> Response:  # fmt: skip
    form = {"username": username, "role": role, "branch": branch}
    return _change(request, form, "created", lambda s: create_user(
        s, username=username.strip(), password=password, role=role,
        branch_code=branch.strip() or None, actor=hq.username))  # fmt: skip


@router.post("/{username}/deactivate")
def deactivate(request: Request, username: str, hq: HqForm) -> Response:
    return _change(request, {"target": username}, "deactivated",
                   lambda s: deactivate_user(s, username=username, actor=hq.username))  # fmt: skip


@router.post("/{username}/move")
def move(request: Request, username: str, hq: HqForm, branch: Name) -> Response:
    return _change(request, {"target": username, "branch": branch}, "moved", lambda s: move_user(
        s, username=username, branch_code=branch.strip(), actor=hq.username))  # fmt: skip


@router.post("/{username}/password")
def password(request: Request, username: str, hq: HqForm, password: Secret) -> Response:
    return _change(request, {"target": username}, "password", lambda s: reset_password(
        s, username=username, password=password, actor=hq.username))  # fmt: skip


@router.post("/{username}/unlock")
def unlock_account(request: Request, username: str, hq: HqForm) -> Response:
    return _change(request, {"target": username}, "unlocked",
                   lambda s: unlock(s, username=username, actor=hq.username))  # fmt: skip


def _change(request: Request, form: dict[str, str], done: str,
            action: Callable[[Session], object]) -> Response:  # fmt: skip
    def refused(error: AppError) -> Response:
        with session_scope(request.app.state.engine) as session:
            return _page(request, session, form=form, error=error_text(error),
                         status=error.status)  # fmt: skip

    return change(request, action, done=lambda _: f"/hq/users?done={done}", refused=refused)


def _page(request: Request, session: Session, *, done: str = "", form: dict[str, str] | None = None,
          error: str | None = None, status: int = 200) -> Response:  # fmt: skip
    context = {"users": user_rows(session), "branches": branch_codes(session), "done": done,
               "form": form or {}, "error": error}  # fmt: skip
    return render(request, "hq_users.html", context, status_code=status)

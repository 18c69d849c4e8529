"""The branches page (HQ, auditors) and HQ's changes to a branch (issue 17.3): create one,
change its capacity, deactivate it.

Every change goes through `app.branches.service` (the import's parsers, the one capacity
rule, re-pooling) and is audited there. A refused form is shown again with its message beside
the field, in Chinese, and with what was typed.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from fastapi import Form, Path, Query, Request
from sqlmodel import Session
from starlette.responses import Response

from app.auth import Principal
from app.branches.service import create_branch, deactivate_branch, set_capacity
from app.db import session_scope
from app.deps import SessionDep
from app.errors import AppError, FileRejected
from app.web.form_fields import field_errors
from app.web.messages import error_text
from app.web.pages.hq import BRANCH_SORTS, branch_table
from app.web.routes.base import page_router
from app.web.session import form_roles, page_roles
from app.web.templating import render
from app.web.unit_of_work import change

router = page_router("/hq/branches")
Viewer = Annotated[Principal, page_roles("hq", "auditor")]
HqForm = Annotated[Principal, form_roles("hq")]
SortParam = Annotated[str, Query(pattern="^(" + "|".join(BRANCH_SORTS) + ")$")]
Code = Annotated[str, Path(pattern=r"^[A-Za-z0-9_-]{1,32}$")]
Text = Annotated[str, Form(max_length=200)]
DONE = ("created", "capacity", "deactivated")
FIELDS = ("code", "name", "lat", "lon", "capacity", "tiers", "region_code")


@router.get("")
def branches(
    request: Request, _viewer: Viewer, session: SessionDep,
    q: Annotated[str, Query(max_length=64)] = "", sort: SortParam = "code",
    done: Annotated[str, Query(pattern="^(" + "|".join(("", *DONE)) + ")$")] = "",
) -> Response:  # fmt: skip
    return _page(request, session, search=q.strip(), sort=sort, context={"done": done})


@router.post("")
def create(request: Request, hq: HqForm, code: Text, name: Text, lat: Text, lon: Text,
           capacity: Text, tiers: Text = "", region_code: Text = "") -> Response:  # fmt: skip
    form = {"code": code, "name": name, "lat": lat, "lon": lon, "capacity": capacity,
            "tiers": tiers, "region_code": region_code}  # fmt: skip
    return _change(request, {"form": form}, "created",
                   lambda s: create_branch(s, fields=form, actor=hq.username))  # fmt: skip


@router.post("/{code}/capacity")
def capacity(request: Request, code: Code, hq: HqForm, capacity: Text) -> Response:
    typed = {"target": code, "capacity": capacity}
    return _change(request, {"typed": typed}, "capacity", lambda s: set_capacity(
        s, code=code, capacity=capacity, actor=hq.username))  # fmt: skip


@router.post("/{code}/deactivate")
def deactivate(request: Request, code: Code, hq: HqForm) -> Response:
    return _change(request, {"typed": {"target": code}}, "deactivated",
                   lambda s: deactivate_branch(s, code=code, actor=hq.username))  # fmt: skip


def _change(request: Request, context: dict[str, object], done: str,
            action: Callable[[Session], object]) -> Response:  # fmt: skip
    def refused(error: AppError) -> Response:
        if isinstance(error, FileRejected):  # the create form: each bad field
            context["errors"] = field_errors(error, fields=FIELDS)
        else:
            context["error"] = error_text(error)
        return _refused(request, context, error.status)

    return change(request, action, done=lambda _: f"/hq/branches?done={done}", refused=refused)


def _refused(request: Request, context: dict[str, object], status: int) -> Response:
    with session_scope(request.app.state.engine) as session:
        return _page(request, session, context=context, status=status)


def _page(request: Request, session: Session, *, search: str = "", sort: str = "code",
          context: dict[str, object], status: int = 200) -> Response:  # fmt: skip
    full = {"table": branch_table(session, search=search, sort=sort), "done": "", "form": {},
            "typed": {}, "errors": {}, "error": None, **context}  # fmt: skip
    return render(request, "hq_branches.html", full, status_code=status)

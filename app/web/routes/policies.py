"""Split policies for finance (issue 17.3): every version and when it is in force; finance adds
a version from a form or a JSON/CSV file, auditors read (the ledger API's roles).

A version is added through the API's services (`app.journal.service`), so the checks (shares
total 100%, no closed month, no credited revenue re-split) and the audit record are the same.
A refused form is shown again with each message beside its field, in Chinese, and with what
was typed; a refused file lists every bad field by line.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Form, Query, Request, UploadFile
from fastapi.responses import RedirectResponse
from sqlmodel import Session
from starlette.responses import Response

from app.auth import Principal
from app.db import session_scope
from app.deps import SessionDep
from app.errors import AppError, FileRejected
from app.journal import http_files, service
from app.web.form_fields import field_errors
from app.web.messages import error_text
from app.web.pages.policies import FIELDS, policies_view
from app.web.routes.base import page_router
from app.web.session import form_roles, page_roles
from app.web.templating import render

router = page_router("/finance/policies")
Reader = Annotated[Principal, page_roles("finance", "auditor")]
FinanceForm = Annotated[Principal, form_roles("finance")]
Field = Annotated[str, Form(max_length=400)]
MAX_SHOWN_ERRORS = 200


@router.get("")
def policies(
    request: Request, _reader: Reader, session: SessionDep,
    done: Annotated[str, Query(pattern="^(added|uploaded)?$")] = "",
) -> Response:  # fmt: skip
    return _page(request, session, {"done": done})


@router.post("")
def add(request: Request, fin: FinanceForm, policy_id: Field, revenue_type: Field,
        valid_from: Field, branch_bps: Field, hq_online_bps: Field, overlay_bps: Field = "",
        reason: Field = "") -> Response:  # fmt: skip
    form = {"policy_id": policy_id, "revenue_type": revenue_type, "valid_from": valid_from,
            "branch_bps": branch_bps, "hq_online_bps": hq_online_bps,
            "overlay_bps": overlay_bps, "reason": reason}  # fmt: skip
    try:
        with session_scope(request.app.state.engine) as session:
            service.add_policy_fields(session, values=form, actor=fin.username)
    except FileRejected as refused:
        context = {"form": form, "errors": field_errors(refused, fields=FIELDS)}
        return _refused(request, context, refused.status)
    except AppError as refused:  # the ledger busy with another write
        return _refused(request, {"form": form, "errors": {"*": [error_text(refused)]}},
                        refused.status)  # fmt: skip
    return RedirectResponse("/finance/policies?done=added", status_code=303)


@router.post("/upload")
def upload(request: Request, fin: FinanceForm, file: UploadFile) -> Response:
    try:
        with session_scope(request.app.state.engine) as session:
            http_files.add_uploaded_policies(session, upload=file, actor=fin.username)
    except FileRejected as refused:
        context = {"rejected": refused, "shown_errors": refused.errors[:MAX_SHOWN_ERRORS]}
        return _refused(request, context, refused.status)
    except AppError as refused:  # too large, the ledger busy
        return _refused(request, {"problem": error_text(refused)}, refused.status)
    return RedirectResponse("/finance/policies?done=uploaded", status_code=303)


def _refused(request: Request, context: dict[str, object], status: int) -> Response:
    with session_scope(request.app.state.engine) as session:
        return _page(request, session, context, status=status)


def _page(
    request: Request, session: Session, context: dict[str, object], *, status: int = 200
) -> Response:
    full = {"view": policies_view(session), "done": "", "form": {}, "errors": {}, "problem": None,
            "rejected": None, "shown_errors": [], **context}  # fmt: skip
    return render(request, "finance_policies.html", full, status_code=status)

"""Jinja2 set-up and the one `render` every page goes through."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import jinja2
from fastapi import Request
from fastapi.templating import Jinja2Templates
from starlette.responses import Response

from app.web.labels import CHANNELS, FILTERS, STATUSES, TIERS
from app.web.messages import FILTERS as MESSAGE_FILTERS
from app.web.nav import nav_for
from app.web.session import CSRF_FIELD

HERE = Path(__file__).parent
STATIC_DIR = HERE / "static"
# Front-end packages (charts) copied from node_modules at set-up; gitignored, never committed.
VENDOR_DIR = HERE.parent / "static" / "vendor"
# Everything from this server: no CDN, no inline scripts, not framable.
SECURITY_HEADERS = {
    "Cache-Control": "no-store",
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
        "img-src 'self' data:; frame-ancestors 'none'; form-action 'self'; base-uri 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
}

_env = jinja2.Environment(
    loader=jinja2.FileSystemLoader(HERE / "templates"),
    autoescape=True,
    undefined=jinja2.StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)
_env.filters.update(FILTERS, **MESSAGE_FILTERS)
_env.globals.update(FILTERS, **MESSAGE_FILTERS)  # also callable, e.g. passed to a macro
_env.globals.update(STATUSES=STATUSES, CHANNELS=CHANNELS, TIERS=TIERS)  # for filter forms
templates = Jinja2Templates(env=_env)


def render(
    request: Request,
    name: str,
    context: dict[str, Any] | None = None,
    *,
    status_code: int = 200,
    headers: dict[str, str] | None = None,
) -> Response:
    """Render a page with the signed-in user, their navigation and the CSRF field name."""
    principal = getattr(request.state, "principal", None)
    base: dict[str, Any] = {
        "principal": principal,
        "nav": nav_for(principal.role, request.url.path) if principal else [],
        "csrf_field": CSRF_FIELD,
        "csrf_token": getattr(request.state, "csrf_token", ""),
    }
    all_headers = {**SECURITY_HEADERS, **(headers or {})}
    return templates.TemplateResponse(
        request, name, {**base, **(context or {})}, status_code=status_code, headers=all_headers
    )

"""The router every page module starts from: tagged, so its errors render as pages."""

from __future__ import annotations

from fastapi import APIRouter

WEB_TAG = "web"


def page_router(prefix: str = "") -> APIRouter:
    # The tag sits on each route itself (what `scope["route"]` points at), not on an include.
    return APIRouter(prefix=prefix, tags=[WEB_TAG], include_in_schema=False)

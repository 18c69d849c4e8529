"""All page routes: sign-in, dashboard, branch work and HQ overviews."""

from __future__ import annotations

from fastapi import APIRouter

from app.web.routes import auth, home, hq, leads
from app.web.routes.base import WEB_TAG

__all__ = ["WEB_TAG", "router"]

router = APIRouter()
for _module in (auth, home, leads, hq):
    router.include_router(_module.router)

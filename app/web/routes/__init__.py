"""All page routes: sign-in, dashboard, branch work, HQ overviews, rounds and finance."""

from __future__ import annotations

from fastapi import APIRouter

from app.web.routes import analytics, auth, finance, home, hq, leads, rounds, whatif
from app.web.routes.base import WEB_TAG

__all__ = ["WEB_TAG", "router"]

router = APIRouter()
for _module in (auth, home, leads, hq, rounds, whatif, analytics, finance):
    router.include_router(_module.router)

"""All page routes: sign-in, dashboard, branch work, HQ overviews and imports, rounds, finance."""

from __future__ import annotations

from fastapi import APIRouter

from app.web.routes import (
    analytics,
    audit,
    auth,
    branches,
    finance,
    home,
    hq,
    imports,
    jobs,
    leads,
    notifications,
    policies,
    rounds,
    suspense,
    users,
    whatif,
)
from app.web.routes.base import WEB_TAG

__all__ = ["WEB_TAG", "router"]

router = APIRouter()
for _module in (
    auth,
    home,
    leads,
    hq,
    imports,
    users,
    rounds,
    jobs,
    whatif,
    analytics,
    audit,
    finance,
    notifications,
    suspense,
    policies,
    branches,
):
    router.include_router(_module.router)

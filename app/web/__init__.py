"""Server-rendered pages (Jinja2): sign-in, dashboards, the branch inbox and HQ overviews."""

from app.web.install import install_web
from app.web.routes import router

__all__ = ["install_web", "router"]

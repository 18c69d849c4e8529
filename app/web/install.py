"""Wiring the pages into the application: static files, routes, and errors as pages."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, cast
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.exception_handlers import (
    http_exception_handler,
    request_validation_exception_handler,
)
from fastapi.exceptions import RequestValidationError
from fastapi.responses import RedirectResponse
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response

from app.config import Settings
from app.errors import AppError, Unauthorized
from app.web.messages import error_text
from app.web.routes import WEB_TAG, router
from app.web.templating import STATIC_DIR, VENDOR_DIR, render

Handler = Callable[[Request, Any], Awaitable[Response]]
API_PREFIXES = ("/api/", "/openapi.json", "/docs", "/redoc", "/static/")


def install_web(app: FastAPI, settings: Settings) -> None:
    """Add the pages to an app built by `create_app` (after its API error handlers).

    Idempotent: once `create_app` calls it, a second call (as the tests make) changes nothing.
    """
    del settings  # the pages read settings per request, like the API does
    if getattr(app.state, "web_installed", False):
        return
    app.state.web_installed = True
    app.mount("/static/vendor", _OptionalStaticFiles(directory=VENDOR_DIR), name="vendor")
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    app.include_router(router)
    api_handler = cast(Handler | None, app.exception_handlers.get(AppError))
    app.add_exception_handler(AppError, _pages_or(api_handler, _app_error_page))
    api_invalid = cast(Handler | None, app.exception_handlers.get(RequestValidationError))
    app.add_exception_handler(
        RequestValidationError,
        _pages_or(api_invalid or request_validation_exception_handler, _invalid_page),
    )
    app.add_exception_handler(
        StarletteHTTPException, _unmatched_or(http_exception_handler, _http_error_page)
    )


class _OptionalStaticFiles(StaticFiles):
    """Front-end packages copied at set-up: until they are there, their URLs are 404, not 500."""

    def __init__(self, *, directory: Path) -> None:
        super().__init__(directory=directory, check_dir=False)
        self._directory_path = directory

    async def check_config(self) -> None:
        if self._directory_path.is_dir():
            await super().check_config()


def _is_page(request: Request) -> bool:
    route = request.scope.get("route")
    return WEB_TAG in (getattr(route, "tags", None) or [])


def _pages_or(api_handler: Handler | None, page_handler: Handler) -> Handler:
    """Errors raised by page routes become pages; the API keeps its JSON answers."""

    async def handle(request: Request, exc: Exception) -> Response:
        if _is_page(request) or api_handler is None:
            return await page_handler(request, exc)
        return await api_handler(request, exc)

    return handle


def _unmatched_or(api_handler: Handler, page_handler: Handler) -> Handler:
    """An unknown URL outside the API (someone typed it in a browser) gets the 404 page."""

    async def handle(request: Request, exc: Exception) -> Response:
        if _is_page(request) or not request.url.path.startswith(API_PREFIXES):
            return await page_handler(request, exc)
        return await api_handler(request, exc)

    return handle


# Chinese title and explanation per status; the service's own message follows as the detail.
MESSAGES = {
    400: ("请求有误", "请求的内容无法处理。"),
    403: ("没有权限", "您的角色无权执行此操作，或表单已过期（请刷新页面后重试）。"),
    404: ("页面不存在", "您要找的内容不存在，或不在您的权限范围内。"),
    409: ("操作与当前状态冲突", "数据的状态已变化（可能已被他人处理），请刷新后重试。"),
    422: ("输入内容无效", "请检查填写的内容后重试。"),
    429: ("操作过于频繁", "已达到每小时的次数上限，请稍后再试。"),
}


def _error_page(request: Request, status: int, detail: str | None = None) -> Response:
    title, explanation = MESSAGES.get(status, ("出错了", "请稍后重试。"))
    context = {"status": status, "title": title, "explanation": explanation, "detail": detail}
    return render(request, "error.html", context, status_code=status)


def _login_redirect(request: Request) -> Response:
    target = "/"
    if request.method == "GET":  # come back to the same page after signing in
        query = request.url.query
        target = request.url.path + (f"?{query}" if query else "")
    return RedirectResponse(f"/login?next={quote(target, safe='/')}", status_code=303)


async def _app_error_page(request: Request, exc: Exception) -> Response:
    if isinstance(exc, Unauthorized):
        return _login_redirect(request)
    assert isinstance(exc, AppError)
    if exc.status == 404:  # "not yours" and "missing" read the same, with no detail
        return _error_page(request, 404)
    return _error_page(request, exc.status, error_text(exc))


async def _invalid_page(request: Request, exc: Exception) -> Response:
    return _error_page(request, 422)


async def _http_error_page(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    return _error_page(request, exc.status_code)

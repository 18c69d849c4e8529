"""The FastAPI application factory."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import anyio.to_thread
from fastapi import FastAPI

from app.analytics.routes import router as analytics_router
from app.clock import install_start
from app.config import Settings, get_settings
from app.db import IN_FLIGHT_WAIT_SECONDS, WORKER_THREADS, make_engine
from app.docs import install_docs
from app.errors import ERROR_RESPONSES, install_error_handlers
from app.imports.routes import router as imports_router
from app.in_flight import InFlightLimit
from app.intake.routes import router as intake_router
from app.jobs.queue import close_queue, has_unfinished_jobs, queue_for
from app.jobs.routes import router as jobs_router
from app.journal.routes import router as ledger_router
from app.leads.routes import router as leads_router
from app.limits import RequestLimits
from app.notifications.routes import router as notifications_router
from app.privacy.routes import router as privacy_router
from app.request_ids import RequestIds
from app.rounds.routes import router as rounds_router
from app.routing.routes import router as routing_router
from app.security_headers import SecurityHeaders
from app.upload_gate import refuse_upload
from app.users.routes import router as auth_router
from app.web import install_web


@asynccontextmanager
async def _worker_threads_match_the_pool(_app: FastAPI) -> AsyncIterator[None]:
    # Sync endpoints run in anyio's default thread limiter; no more threads than connections.
    anyio.to_thread.current_default_thread_limiter().total_tokens = WORKER_THREADS
    settings: Settings = _app.state.settings
    # In-process job workers (O2O_JOB_WORKERS_IN_PROCESS) start with the first job, or now if
    # jobs were left queued or running when the server stopped (they resume).
    if settings.job_workers_in_process and has_unfinished_jobs(_app.state.engine):
        queue_for(settings).start_in_process()
    yield
    close_queue(settings)


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    install_start(settings.clock_start)
    app = FastAPI(
        title="O2O lead allocation and commission ledger",
        version="0.1.0",
        docs_url=None,  # install_docs serves /docs without a CDN
        redoc_url=None,
        lifespan=_worker_threads_match_the_pool,
    )
    app.state.settings = settings
    app.state.engine = make_engine(settings)
    install_error_handlers(app)
    app.add_middleware(RequestIds)
    app.add_middleware(InFlightLimit, limit=WORKER_THREADS, wait_seconds=IN_FLIGHT_WAIT_SECONDS)
    app.add_middleware(
        RequestLimits,
        max_body_bytes=settings.max_body_bytes,
        max_upload_bytes=settings.max_upload_bytes,
        max_import_rows=settings.max_import_rows,
        refuse_upload=refuse_upload,
    )
    app.add_middleware(SecurityHeaders)  # outermost: on early refusals (413/415) too
    for router in (
        auth_router,
        leads_router,
        intake_router,
        rounds_router,
        jobs_router,
        imports_router,
        ledger_router,
        privacy_router,
        analytics_router,
        notifications_router,
        routing_router,
    ):
        app.include_router(router, responses=ERROR_RESPONSES)
    install_docs(app)

    @app.get("/healthz", include_in_schema=False)
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    install_web(app, settings)
    return app

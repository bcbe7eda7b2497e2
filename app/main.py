"""The FastAPI application: webhook receiver, run pages, health, and (embedded mode) the worker."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from app.dashboard.routes import router as dashboard_router
from app.services import build_services
from app.settings import Settings, load_settings
from app.webhooks.routes import router as webhook_router

log = logging.getLogger(__name__)


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the app; settings are read from the environment when not given."""
    settings = settings or load_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        services = await build_services(settings)
        app.state.services = services
        app.state.settings = settings
        app.state.store = services.store
        app.state.webhook_secret = settings.github_webhook_secret.get_secret_value().encode()
        app.state.wake_worker = services.queue.wakeup.set
        if settings.worker_mode == "embedded":
            services.start_worker()
        log.info("mini-review ready (database %s, worker %s)", services.database_kind, settings.worker_mode)
        try:
            yield
        finally:
            await services.close()

    app = FastAPI(title="mini-review", lifespan=lifespan, docs_url=None, redoc_url=None)
    app.include_router(webhook_router)
    app.include_router(dashboard_router)

    @app.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    return app

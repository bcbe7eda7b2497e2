"""The FastAPI application: webhook receiver, run pages, health, and (embedded mode) the worker."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from app.dashboard.setup import dashboard_for, install_dashboard
from app.settings import Settings, load_settings
from app.webhooks.routes import router as webhook_router
from app.wiring import build_wiring

log = logging.getLogger(__name__)


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the app; settings are read from the environment when not given."""
    settings = settings or load_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        wiring = await build_wiring(settings)
        # Read only through the typed dependencies in app.deps.
        app.state.settings = settings
        app.state.store = wiring.store
        app.state.wake_worker = wiring.queue.wakeup.set
        app.state.dashboard = await dashboard_for(
            settings, wiring.store, wiring.github, wiring.queue.wakeup.set
        )
        if settings.worker_mode == "embedded":
            wiring.start_worker()
        log.info("mini-review ready (database %s, worker %s)", wiring.database_kind, settings.worker_mode)
        try:
            yield
        finally:
            await wiring.close()

    app = FastAPI(title="mini-review", lifespan=lifespan, docs_url=None, redoc_url=None)
    app.include_router(webhook_router)
    install_dashboard(app)

    @app.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    return app

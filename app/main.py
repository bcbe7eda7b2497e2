"""The FastAPI application: webhook receiver, run pages, health, and (embedded mode) the worker."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.responses import JSONResponse

from app.dashboard.setup import dashboard_for, install_dashboard
from app.deps import ReadinessDep
from app.gc_tuning import tune_after_startup
from app.health.http import WebhookObserver
from app.health.http import router as metrics_router
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
        # SQLite has no other process to apply what this one records; PostgreSQL has the workers.
        applies = settings.worker_mode == "embedded" or wiring.database_kind == "sqlite"
        app.state.intake = wiring.start_intake(apply=applies)
        app.state.dashboard = await dashboard_for(
            settings, wiring.store, wiring.github, wiring.queue.wakeup.set
        )
        if settings.worker_mode == "embedded":
            await wiring.start_worker()
        app.state.readiness = wiring
        tune_after_startup()
        log.info("mini-review ready (database %s, worker %s)", wiring.database_kind, settings.worker_mode)
        try:
            yield
        finally:
            await wiring.close()

    app = FastAPI(title="mini-review", lifespan=lifespan, docs_url=None, redoc_url=None)
    app.include_router(webhook_router)
    install_dashboard(app)
    app.include_router(metrics_router)
    app.add_middleware(WebhookObserver)

    @app.get("/healthz")
    async def healthz() -> dict[str, str]:
        """Liveness: the process answers (cheap, no I/O)."""
        return {"status": "ok"}

    @app.get("/readyz")
    async def readyz(readiness: ReadinessDep) -> JSONResponse:
        """Readiness: the database answers, the delivery applier and (if any) the worker loops are alive."""
        checks = {
            "database": await readiness.database_ok(),
            "worker": readiness.worker_alive(),
            "intake": readiness.intake_alive(),
        }
        ready = all(checks.values())
        body = {
            "status": "ok" if ready else "unavailable",
            **{k: "ok" if v else "failing" for k, v in checks.items()},
        }
        return JSONResponse(body, status_code=200 if ready else 503)

    return app

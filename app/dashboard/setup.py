"""Attach the dashboard to the web app: routes, static files, security headers, and its per-process state."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import Response
from fastapi.staticfiles import StaticFiles

from app.dashboard import actions, auth, routes
from app.dashboard.context import Dashboard, build_dashboard
from app.dashboard.pages import Refused
from app.dashboard.visibility import AppVisibility
from app.github.client import GitHubAppClient
from app.jobs.models import JobKind, ReviewJob, pr_key
from app.jobs.queue import enqueue
from app.settings import Settings
from app.storage.dashboard import DashboardStore
from app.storage.db import write_transaction
from app.storage.repository import Store

STATIC = Path(__file__).parent / "static"
# Everything is served by the app itself: no CDN, font or script from anywhere else.
CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
}


def install_dashboard(app: FastAPI) -> None:
    app.include_router(auth.router)
    app.include_router(actions.router)
    app.include_router(routes.router)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")

    async def refused(_request: Request, exc: Exception) -> Response:
        assert isinstance(exc, Refused)
        return exc.response

    app.add_exception_handler(Refused, refused)

    @app.middleware("http")
    async def security_headers(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        response = await call_next(request)
        for name, value in SECURITY_HEADERS.items():
            response.headers.setdefault(name, value)
        return response


async def dashboard_for(
    settings: Settings, runs: Store, github: GitHubAppClient, wake_worker: Callable[[], None]
) -> Dashboard:
    """The dashboard's per-process state, over the composition root's store and GitHub client."""
    engine = runs.engine
    store = DashboardStore(engine)

    async def enqueue_review(job: ReviewJob) -> None:
        async with write_transaction(engine) as conn:
            key = pr_key(job.repo, job.number)
            await enqueue(conn, kind=JobKind.REVIEW, key=key, payload=job.model_dump(mode="json"))
        wake_worker()

    return await build_dashboard(settings, store, runs, AppVisibility(github, store), enqueue_review)

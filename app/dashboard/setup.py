"""Attach the dashboard to the web app: routes, static files, security headers, and its per-process state."""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response
from fastapi.staticfiles import StaticFiles

from app.dashboard import actions, auth, routes
from app.dashboard.auth import message_page
from app.dashboard.context import Dashboard, build_dashboard, get_dashboard
from app.dashboard.headers import SecurityHeaders
from app.dashboard.pages import Refused, refuse
from app.dashboard.sessions import ANONYMOUS, COOKIE, SessionKeys, Viewer
from app.dashboard.visibility import AppVisibility
from app.github.client import GitHubAppClient
from app.github.oauth import ExpiredToken, OAuthError
from app.jobs.models import JobKind, ReviewJob, pr_key
from app.jobs.queue import enqueue
from app.settings import Settings
from app.storage.dashboard import DashboardStore
from app.storage.db import write_transaction
from app.storage.repository import Store

log = logging.getLogger(__name__)
STATIC = Path(__file__).parent / "static"


def install_dashboard(app: FastAPI) -> None:
    app.include_router(auth.router)
    app.include_router(actions.router)
    app.include_router(routes.router)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")

    async def refused(_request: Request, exc: Exception) -> Response:
        assert isinstance(exc, Refused)
        return exc.response

    app.add_exception_handler(Refused, refused)
    app.add_exception_handler(OAuthError, github_trouble)

    app.add_middleware(SecurityHeaders)


async def github_trouble(request: Request, exc: Exception) -> Response:
    """A user token GitHub no longer takes ends the session (sign in again); other failures are a 502."""
    dash = get_dashboard(request)
    api = request.url.path.startswith("/api/")
    if not isinstance(exc, ExpiredToken):
        log.warning("GitHub did not answer a dashboard question: %s", exc)
        if api:
            return JSONResponse({"detail": "GitHub is unreachable; try again shortly"}, status_code=502)
        return message_page(dash, 502, "GitHub is unreachable", "Try again in a moment.")
    session_id = dash.keys.session_id(request.cookies.get(COOKIE))
    if session_id is not None:
        await dash.store.delete_session(SessionKeys.hash_id(session_id))
        dash.policy.forget(Viewer(session_id=session_id))
    response = refuse(dash, request, ANONYMOUS, api=api).response
    response.delete_cookie(COOKIE, path="/", httponly=True, samesite="lax", secure=dash.secure_cookies)
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

"""What the dashboard's routes work with, built once per process, and the viewer of each request."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Protocol

from fastapi import Depends, Request
from jinja2 import Environment, FileSystemLoader, select_autoescape

from app.dashboard.access import AccessPolicy, VisibilitySource
from app.dashboard.sessions import ANONYMOUS, COOKIE, SessionKeys, Viewer, load_session_keys
from app.github.oauth import OAuthApp, UserRepo
from app.jobs.models import ReviewJob
from app.settings import Settings
from app.storage.dashboard import DashboardStore
from app.storage.models import Run

EnqueueReview = Callable[[ReviewJob], Awaitable[None]]


class RunReader(Protocol):
    """Typed runs (the app's `Store`, or a test's in-memory one)."""

    async def get_run(self, run_id: str) -> Run | None: ...

TEMPLATES = Path(__file__).parent / "templates"


@dataclass
class Dashboard:
    settings: Settings
    store: DashboardStore
    runs: RunReader
    keys: SessionKeys
    policy: AccessPolicy
    oauth: OAuthApp | None
    enqueue_review: EnqueueReview
    templates: Environment

    @property
    def secure_cookies(self) -> bool:
        return self.settings.public_url.lower().startswith("https://")

    @property
    def callback_url(self) -> str:
        return f"{self.settings.public_url.rstrip('/')}/auth/callback"


def template_environment() -> Environment:
    # Everything shown came from a PR, a model or GitHub: autoescape every template.
    return Environment(
        loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(["html"], default=True)
    )


async def build_dashboard(
    settings: Settings,
    store: DashboardStore,
    runs: RunReader,
    visibility: VisibilitySource,
    enqueue_review: EnqueueReview,
) -> Dashboard:
    oauth = None
    if settings.github_client_id and settings.github_client_secret is not None:
        oauth = OAuthApp(
            settings.github_client_id,
            settings.github_client_secret.get_secret_value(),
            web_url=settings.github_url,
            api_url=settings.github_api_url,
        )

    async def list_repos(token: str) -> list[UserRepo]:
        if oauth is None:
            return []
        return await oauth.user_api(token).repositories()

    return Dashboard(
        settings=settings,
        store=store,
        runs=runs,
        keys=await load_session_keys(settings, store),
        policy=AccessPolicy(visibility, list_repos, ttl=settings.access_cache_s),
        oauth=oauth,
        enqueue_review=enqueue_review,
        templates=template_environment(),
    )


def get_dashboard(request: Request) -> Dashboard:
    dashboard: Dashboard = request.app.state.dashboard
    return dashboard


DashboardDep = Annotated[Dashboard, Depends(get_dashboard)]


async def get_viewer(request: Request, dash: DashboardDep) -> Viewer:
    """The signed-in user behind the session cookie, or the anonymous viewer."""
    session_id = dash.keys.session_id(request.cookies.get(COOKIE))
    if session_id is None:
        return ANONYMOUS
    row = await dash.store.get_session(dash.keys.hash_id(session_id))
    if row is None or row.token is None or row.login is None:
        return Viewer(session_id=session_id, csrf=dash.keys.csrf_token(session_id))
    token = dash.keys.decrypt(row.token)
    return Viewer(
        session_id=session_id,
        login=row.login if token else None,
        token=token,
        csrf=dash.keys.csrf_token(session_id),
    )


ViewerDep = Annotated[Viewer, Depends(get_viewer)]

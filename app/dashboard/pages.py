"""Gather what each page shows for one viewer: access checks first, then the stored history."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from fastapi import Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response

from app.dashboard.access import Access
from app.dashboard.context import Dashboard
from app.dashboard.sessions import Viewer
from app.dashboard.views import (
    CHART_DAYS,
    Page,
    PullPage,
    RepoCard,
    RepoPage,
    RepoStats,
    RunPage,
    TimelineEntry,
    addressed_share,
    daily_points,
    repo_card,
    run_page,
    run_row,
    skip_reasons,
    what_happened,
)
from app.storage.dashboard import RunFilter
from app.storage.db import utcnow

PAGE_SIZE = 25


class Refused(Exception):
    """Stop and answer with this response (sign in first, or not found)."""

    def __init__(self, response: Response) -> None:
        super().__init__("refused")
        self.response = response


@dataclass(frozen=True)
class Visible:
    """A repository the viewer may read, by its stored name."""

    name: str
    access: Access


def refuse(dash: Dashboard, request: Request, viewer: Viewer, *, api: bool) -> Refused:
    """Anonymous viewers are sent to sign in; everyone else learns nothing (the same 404 as for nothing)."""
    if not viewer.signed_in and dash.oauth is not None:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        if api:
            return Refused(JSONResponse({"detail": "sign in required", "login": "/login"}, status_code=401))
        return Refused(RedirectResponse(f"/login?next={quote(target, safe='')}", status_code=303))
    if api:
        return Refused(JSONResponse({"detail": "Not Found"}, status_code=404))
    html = dash.templates.get_template("message.html").render(
        title="Not found",
        text="There is nothing here, or you cannot see it.",
        viewer=viewer,
        sign_in_enabled=dash.oauth is not None,
    )
    return Refused(HTMLResponse(html, status_code=404))


async def readable(
    dash: Dashboard, request: Request, viewer: Viewer, full_name: str, *, api: bool
) -> Visible:
    name = await dash.store.canonical_repo(full_name) or full_name
    access = await dash.policy.access(viewer, name)  # an expired sign-in is handled by setup.py
    if not access.readable:
        raise refuse(dash, request, viewer, api=api)
    return Visible(name, access)


async def home(dash: Dashboard, viewer: Viewer) -> list[RepoCard]:
    """The repositories the viewer can see, most recently active first."""
    grants = await dash.policy.grants(viewer)
    names = {n.lower(): n for n in await dash.store.repo_names()}
    for key, grant in grants.items():
        names.setdefault(key, grant.full_name)
    visible: dict[str, bool] = {}
    for key, name in names.items():
        if key in grants:
            visible[name] = grants[key].private
        elif await dash.policy.is_public(name):
            visible[name] = False
    now = utcnow()
    since = min(now - dt.timedelta(days=7), now.replace(day=1, hour=0, minute=0, second=0, microsecond=0))
    runs = await dash.store.runs_since(list(visible), since)
    last = await dash.store.last_activity(list(visible))
    cards = []
    for name, private in visible.items():
        card = repo_card(name, private, [r for r in runs if r["repo"] == name], now)
        card.last_activity = last.get(name)
        cards.append(card)
    epoch = dt.datetime.min.replace(tzinfo=dt.UTC)
    return sorted(cards, key=lambda c: (-(c.last_activity or epoch).timestamp(), c.name.lower()))


async def repo(dash: Dashboard, seen: Visible, filters: RunFilter, page_number: int) -> RepoPage:
    page_number = max(page_number, 1)
    rows, total = await dash.store.list_runs(
        seen.name, filters, offset=(page_number - 1) * PAGE_SIZE, limit=PAGE_SIZE
    )
    now = utcnow()
    since = now - dt.timedelta(days=CHART_DAYS)
    window = await dash.store.runs_since([seen.name], since)
    progress = await dash.store.progress_since(seen.name, since)
    progress.update(await dash.store.progress([r["id"] for r in rows if r["id"] not in progress]))
    statuses, triggers = await dash.store.run_choices(seen.name)
    return RepoPage(
        repo=seen.name,
        private=not seen.access.public,
        paused=await dash.store.repo_paused(seen.name),
        can_write=seen.access.can_write,
        runs=[run_row(r, progress.get(r["id"])) for r in rows],
        page=Page(number=page_number, size=PAGE_SIZE, total=total),
        filters=filters,
        statuses=statuses,
        triggers=triggers,
        stats=RepoStats(
            days=daily_points(window, now.date()),
            skip_reasons=skip_reasons(window),
            addressed=addressed_share(window, progress),
        ),
    )


async def pull(dash: Dashboard, seen: Visible, number: int) -> PullPage | None:
    rows = await dash.store.pull_runs(seen.name, number)
    if not rows:
        return None
    progress = await dash.store.progress([r["id"] for r in rows])
    runs = [run_row(r, progress.get(r["id"])) for r in rows]
    title = next((r.pr_title for r in reversed(runs) if r.pr_title), None)
    return PullPage(
        repo=seen.name,
        number=number,
        title=title,
        github_url=f"{dash.settings.github_url.rstrip('/')}/{seen.name}/pull/{number}",
        can_write=seen.access.can_write,
        timeline=[TimelineEntry(run=r, what_happened=what_happened(r)) for r in runs],
    )


async def run(dash: Dashboard, raw: dict[str, Any], seen: Visible) -> RunPage:
    run_id = str(raw["id"])
    progress = (await dash.store.progress([run_id])).get(run_id)
    page = run_page(raw, progress, github_web=dash.settings.github_url)
    page.can_write = seen.access.can_write
    return page

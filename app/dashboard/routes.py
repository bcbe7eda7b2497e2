"""Dashboard pages (HTML) and the same data as JSON under /api/…; every answer checks access first."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from pydantic import BaseModel

from app.conversation.store import ConversationStore
from app.dashboard import pages
from app.dashboard.charts import legend, stacked_bars
from app.dashboard.context import Dashboard, DashboardDep, ViewerDep
from app.dashboard.render import render_markdown
from app.dashboard.sessions import Viewer
from app.dashboard.views import CATEGORIES, RepoPage, RunPage, RunView
from app.deps import ConversationStoreDep
from app.storage.dashboard import RunFilter
from app.storage.models import Run

router = APIRouter()
NO_STORE = {"Cache-Control": "no-store", "X-Robots-Tag": "noindex"}


def _html(dash: Dashboard, viewer: Viewer, template: str, status: int = 200, **values: Any) -> HTMLResponse:
    html = dash.templates.get_template(template).render(
        viewer=viewer, sign_in_enabled=dash.oauth is not None, **values
    )
    return HTMLResponse(html, status_code=status, headers=NO_STORE)


def _json(model: BaseModel | list[Any] | dict[str, Any]) -> JSONResponse:
    if isinstance(model, BaseModel):
        content: Any = model.model_dump(mode="json")
    elif isinstance(model, list):
        content = [m.model_dump(mode="json") if isinstance(m, BaseModel) else m for m in model]
    else:
        content = model
    return JSONResponse(content, headers=NO_STORE)


def _filters(status: str | None, trigger: str | None, pr: str | None) -> RunFilter:
    number = int(pr) if pr and pr.strip().isdigit() else None
    return RunFilter(status=status or None, trigger=trigger or None, pr_number=number)


def _charts(page: RepoPage) -> dict[str, Any]:
    days = [p.day for p in page.stats.days]
    return {
        "runs_chart": stacked_bars("Runs per day", days, {"runs": [p.runs for p in page.stats.days]}),
        "cost_chart": stacked_bars(
            "Cost per day (USD)", days, {"cost": [p.cost_usd for p in page.stats.days]}, unit="$", decimals=4
        ),
        "findings_chart": stacked_bars(
            "Findings per day by category",
            days,
            {c: [p.findings[c] for p in page.stats.days] for c in CATEGORIES},
        ),
        "findings_legend": legend(CATEGORIES),
    }


@router.get("/", response_class=HTMLResponse)
async def home_page(dash: DashboardDep, viewer: ViewerDep) -> Response:
    return _html(dash, viewer, "index.html", repos=await pages.home(dash, viewer))


@router.get("/api/repos")
async def home_json(dash: DashboardDep, viewer: ViewerDep) -> Response:
    return _json(
        {
            "signed_in_as": viewer.login,
            "sign_in_enabled": dash.oauth is not None,
            "repositories": [c.model_dump(mode="json") for c in await pages.home(dash, viewer)],
        }
    )


async def _repo_view(
    dash: Dashboard,
    request: Request,
    viewer: Viewer,
    conversation: ConversationStore | None,
    full_name: str,
    filters: RunFilter,
    page: int,
    *,
    api: bool,
) -> RepoPage:
    """One repository's page data, for the HTML page and its JSON twin alike."""
    seen = await pages.readable(dash, request, viewer, full_name, api=api)
    data = await pages.repo(dash, seen, filters, page)
    if conversation is not None:
        data.tracked = await conversation.outcome_counts(seen.name)
        data.learnings = await conversation.list_learnings(seen.name)
    return data


@router.get("/repos/{owner}/{name}", response_class=HTMLResponse)
async def repo_page(
    request: Request,
    dash: DashboardDep,
    viewer: ViewerDep,
    conversation: ConversationStoreDep,
    owner: str,
    name: str,
    status: str | None = None,
    trigger: str | None = None,
    pr: str | None = None,
    page: int = 1,
) -> Response:
    filters = _filters(status, trigger, pr)
    data = await _repo_view(dash, request, viewer, conversation, f"{owner}/{name}", filters, page, api=False)
    return _html(dash, viewer, "repo.html", page=data, **_charts(data))


@router.get("/api/repos/{owner}/{name}")
async def repo_json(
    request: Request,
    dash: DashboardDep,
    viewer: ViewerDep,
    conversation: ConversationStoreDep,
    owner: str,
    name: str,
    status: str | None = None,
    trigger: str | None = None,
    pr: str | None = None,
    page: int = 1,
) -> Response:
    filters = _filters(status, trigger, pr)
    data = await _repo_view(dash, request, viewer, conversation, f"{owner}/{name}", filters, page, api=True)
    return _json(data)


@router.get("/repos/{owner}/{name}/pulls/{number}", response_class=HTMLResponse)
async def pull_page(
    request: Request, dash: DashboardDep, viewer: ViewerDep, owner: str, name: str, number: int
) -> Response:
    seen = await pages.readable(dash, request, viewer, f"{owner}/{name}", api=False)
    data = await pages.pull(dash, seen, number)
    if data is None:
        raise _no_runs(dash, viewer)
    return _html(dash, viewer, "pull.html", page=data)


@router.get("/api/repos/{owner}/{name}/pulls/{number}")
async def pull_json(
    request: Request, dash: DashboardDep, viewer: ViewerDep, owner: str, name: str, number: int
) -> Response:
    seen = await pages.readable(dash, request, viewer, f"{owner}/{name}", api=True)
    data = await pages.pull(dash, seen, number)
    if data is None:
        return JSONResponse({"detail": "Not Found"}, status_code=404)
    return _json(data)


def _no_runs(dash: Dashboard, viewer: Viewer) -> pages.Refused:
    return pages.Refused(
        _html(dash, viewer, "message.html", 404, title="No reviews", text="mini-review has no runs for this.")
    )


async def _run_for(
    request: Request, dash: Dashboard, viewer: Viewer, run_id: str, *, api: bool
) -> tuple[Run, RunPage]:
    run = await dash.runs.get_run(run_id)
    if run is None:
        if not viewer.signed_in and dash.oauth is not None:
            raise pages.refuse(dash, request, viewer, api=api)  # the same answer as for a private run
        if api:
            raise pages.Refused(JSONResponse({"detail": "run not found"}, status_code=404))
        raise pages.Refused(
            _html(
                dash,
                viewer,
                "message.html",
                404,
                title="Run not found",
                text="There is no such run (yet: a queued review gets its page when it starts).",
            )
        )
    seen = await pages.readable(dash, request, viewer, run.repo, api=api)
    return run, await pages.run(dash, run.model_dump(), seen)


@router.get("/runs/{run_id}", response_class=HTMLResponse)
async def run_page(
    request: Request,
    dash: DashboardDep,
    viewer: ViewerDep,
    conversation: ConversationStoreDep,
    run_id: str,
) -> Response:
    run, data = await _run_for(request, dash, viewer, run_id, api=False)
    summary = render_markdown(data.summary_markdown) if data.summary_markdown else None
    # How this repository's posted findings ended (fix tracking, dismissals), when it is recorded.
    outcomes = await conversation.outcome_counts(run.repo) if conversation is not None else None
    return _html(dash, viewer, "run.html", page=data, run=data.run, summary_html=summary, outcomes=outcomes)


@router.get("/api/runs/{run_id}")
async def run_json(request: Request, dash: DashboardDep, viewer: ViewerDep, run_id: str) -> Response:
    run, data = await _run_for(request, dash, viewer, run_id, api=True)
    # The stored record's own fields stay at the top level (scripts read them); the page's view beside.
    page = data.model_dump(mode="json", exclude={"run"})
    return _json({**RunView.of(run).as_json(), **page, "pr_title": data.run.pr_title})

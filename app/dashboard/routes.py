"""The run page linked from each review and check run (the full dashboard comes later)."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, HTTPException
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, select_autoescape

from app.dashboard.views import RunView
from app.deps import ConversationStoreDep, StoreDep

router = APIRouter()
_templates = Environment(
    loader=FileSystemLoader(Path(__file__).parent / "templates"),
    autoescape=select_autoescape(["html"]),  # everything shown came from a PR or a model: escape it
)


async def _run_view(store: StoreDep, run_id: str, missing: str) -> RunView:
    run = await store.get_run(run_id)
    if run is None:
        raise HTTPException(status_code=404, detail=missing)
    return RunView.of(run)


@router.get("/runs/{run_id}", response_class=HTMLResponse)
async def run_page(run_id: str, store: StoreDep, conversation: ConversationStoreDep) -> HTMLResponse:
    # Check runs link to a planned run id while the review is still queued.
    view = await _run_view(store, run_id, "run not found (it may still be queued)")
    outcomes = await conversation.outcome_counts(view.repo) if conversation is not None else None
    html = _templates.get_template("run.html").render(run=view, outcomes=outcomes)
    return HTMLResponse(html, headers={"Cache-Control": "no-store", "X-Robots-Tag": "noindex"})


@router.get("/api/runs/{run_id}")
async def run_json(run_id: str, store: StoreDep) -> dict[str, object]:
    view = await _run_view(store, run_id, "run not found")
    return view.as_json()

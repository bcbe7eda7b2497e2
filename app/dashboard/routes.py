"""The run page linked from each review and check run (the full dashboard comes later)."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, select_autoescape

from app.storage.repository import Store

router = APIRouter()
_templates = Environment(
    loader=FileSystemLoader(Path(__file__).parent / "templates"),
    autoescape=select_autoescape(["html"]),  # everything shown came from a PR or a model: escape it
)


@router.get("/runs/{run_id}", response_class=HTMLResponse)
async def run_page(run_id: str, request: Request) -> HTMLResponse:
    store: Store = request.app.state.store
    run = await store.get_run(run_id)
    if run is None:
        # Check runs link to a planned run id while the review is still queued.
        raise HTTPException(status_code=404, detail="run not found (it may still be queued)")
    html = _templates.get_template("run.html").render(run=run)
    return HTMLResponse(html, headers={"Cache-Control": "no-store", "X-Robots-Tag": "noindex"})


@router.get("/api/runs/{run_id}")
async def run_json(run_id: str, request: Request) -> dict[str, object]:
    store: Store = request.app.state.store
    run = await store.get_run(run_id)
    if run is None:
        raise HTTPException(status_code=404, detail="run not found")
    return {k: (v.isoformat() if hasattr(v, "isoformat") else v) for k, v in run.items()}

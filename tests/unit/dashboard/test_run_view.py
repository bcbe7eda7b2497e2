"""The run page and /api/runs/{id} render one view of a typed run (store swapped through the typed dep)."""

from __future__ import annotations

import datetime as dt

from fastapi import FastAPI
from fastapi.testclient import TestClient

from app.dashboard.routes import router
from app.deps import get_store
from app.storage.models import FindingRow, Run, RunStatus
from tests.fakes.ports import MemoryStore

STARTED = dt.datetime(2026, 11, 30, 9, 15, tzinfo=dt.UTC)


def _client(store: MemoryStore) -> TestClient:
    app = FastAPI()
    app.include_router(router)
    app.dependency_overrides[get_store] = lambda: store
    return TestClient(app)


def _store() -> MemoryStore:
    store = MemoryStore()
    store.runs["r1"] = Run(
        id="r1",
        repo="acme/shop",
        pr_number=7,
        trigger="pull_request.opened",
        status=RunStatus.POSTED,
        started_at=STARTED,
        findings=[
            FindingRow(
                path="a.py",
                line=3,
                category="risk",
                severity="major",
                confidence=0.9,
                title="<b>Total</b> ignores tax",
                body="b",
                outcome="inline comment",
            )
        ],
        timings={"model": 1.5},
        model_calls=1,
    )
    return store


def test_the_json_view() -> None:
    data = _client(_store()).get("/api/runs/r1").json()
    assert data["status"] == "posted" and data["started_at"] == "2026-11-30T09:15:00+00:00"
    assert data["finished_at"] is None and data["findings"][0]["title"] == "<b>Total</b> ignores tax"
    assert data["timings"] == {"model": 1.5} and data["skipped"] == []


def test_the_page_shows_the_same_run_escaped() -> None:
    page = _client(_store()).get("/runs/r1")
    assert page.status_code == 200 and page.headers["cache-control"] == "no-store"
    assert 'class="status posted"' in page.text and "1 model call</td>" in page.text
    assert "&lt;b&gt;Total&lt;/b&gt; ignores tax" in page.text and "<b>Total</b>" not in page.text


def test_unknown_runs_are_404() -> None:
    client = _client(_store())
    assert client.get("/runs/nope").status_code == 404
    assert client.get("/api/runs/nope").status_code == 404

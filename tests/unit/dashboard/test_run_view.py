"""The run page and /api/runs/{id} render one view of a typed run (the typed run store is swapped in)."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI

from app.dashboard.context import build_dashboard
from app.dashboard.setup import install_dashboard
from app.jobs.models import ReviewJob
from app.settings import load_settings
from app.storage.dashboard import DashboardStore
from app.storage.db import create_engine, migrate
from app.storage.models import FindingRow, Run, RunStatus
from tests.fakes.ports import MemoryStore

STARTED = dt.datetime(2026, 11, 30, 9, 15, tzinfo=dt.UTC)


class Public:
    async def is_public(self, full_name: str) -> bool:
        return True


async def _never(job: ReviewJob) -> None:
    raise AssertionError("nothing is enqueued here")


@pytest.fixture
async def client(tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'db.sqlite'}")
    await migrate(engine)
    settings = load_settings(
        GITHUB_APP_ID=1, GITHUB_APP_PRIVATE_KEY="unused", GITHUB_WEBHOOK_SECRET="w", OPENAI_API_KEY="k"
    )
    app = FastAPI()
    install_dashboard(app)
    app.state.dashboard = await build_dashboard(settings, DashboardStore(engine), _store(), Public(), _never)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as http:
        yield http
    await engine.dispose()


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


async def test_the_json_view(client: httpx.AsyncClient) -> None:
    data = (await client.get("/api/runs/r1")).json()
    assert data["status"] == "posted" and data["started_at"] == "2026-11-30T09:15:00+00:00"
    assert data["finished_at"] is None and data["findings"][0]["title"] == "<b>Total</b> ignores tax"
    assert data["timings"] == {"model": 1.5} and data["skipped"] == []


async def test_the_page_shows_the_same_run_escaped(client: httpx.AsyncClient) -> None:
    page = await client.get("/runs/r1")
    assert page.status_code == 200 and page.headers["cache-control"] == "no-store"
    assert 'class="status posted"' in page.text and "1 model call</td>" in page.text
    assert "&lt;b&gt;Total&lt;/b&gt; ignores tax" in page.text and "<b>Total</b>" not in page.text


async def test_unknown_runs_are_404(client: httpx.AsyncClient) -> None:
    assert (await client.get("/runs/nope")).status_code == 404
    assert (await client.get("/api/runs/nope")).status_code == 404

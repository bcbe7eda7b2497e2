"""Shared fixtures: the corpus beside the checkout, databases (SQLite always, PostgreSQL when up)."""

from __future__ import annotations

import json
import socket
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from app.storage.db import create_engine, migrate
from tests.factories import payload_named
from tests.fakes.github import AppSlot
from tests.fakes.server import serve_in_thread

CORPUS = (Path(__file__).resolve().parents[1] / ".." / "shared" / "corpus").resolve()
POSTGRES_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


@pytest.fixture(scope="session")
def corpus() -> Path:
    if not (CORPUS / "diffs" / "INDEX.json").is_file():
        pytest.skip("shared/corpus not present")
    return CORPUS


def webhook_payload(name: str) -> dict[str, Any]:
    """The payload named like a corpus file, built by tests/factories.py (no corpus needed)."""
    return payload_named(name)


def corpus_webhook(name: str) -> dict[str, Any] | None:
    """The real payload from ../shared/corpus, or None when the corpus is absent."""
    path = CORPUS / "webhooks" / name
    if not path.is_file():
        return None
    data: dict[str, Any] = json.loads(path.read_bytes())
    return data


def corpus_webhook_files(pattern: str) -> list[Path]:
    """Corpus payload files matching `pattern`, for extra parametrisations ([] without the corpus)."""
    folder = CORPUS / "webhooks"
    return sorted(folder.glob(pattern)) if folder.is_dir() else []


def postgres_available() -> bool:
    try:
        with socket.create_connection(("127.0.0.1", 5432), timeout=0.5):
            return True
    except OSError:
        return False


@pytest.fixture(params=["sqlite", "postgresql"])
async def blank_engine(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    """An empty, unmigrated database of each kind (PostgreSQL in a schema of its own)."""
    if request.param == "sqlite":
        eng = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'test.db'}")
        try:
            yield eng
        finally:
            await eng.dispose()
        return
    async with postgres_schema() as schema:
        eng = engine_in_schema(schema)
        try:
            yield eng
        finally:
            await eng.dispose()


@pytest.fixture
async def engine(blank_engine: AsyncEngine) -> AsyncIterator[AsyncEngine]:
    """A migrated, empty database of each kind (PostgreSQL in a schema of its own)."""
    await migrate(blank_engine)
    yield blank_engine


@asynccontextmanager
async def postgres_schema() -> AsyncIterator[str]:
    """A fresh PostgreSQL schema of this test's own, dropped afterwards (skips when PostgreSQL is down)."""
    if not postgres_available():
        pytest.skip("PostgreSQL is not running on 127.0.0.1:5432")
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(POSTGRES_URL)
    async with admin.begin() as conn:
        await conn.exec_driver_sql(f"CREATE SCHEMA {schema}")
    await admin.dispose()
    try:
        yield schema
    finally:
        admin = create_engine(POSTGRES_URL)
        async with admin.begin() as conn:
            await conn.exec_driver_sql(f"DROP SCHEMA {schema} CASCADE")
        await admin.dispose()


def engine_in_schema(schema: str) -> AsyncEngine:
    """An engine whose connections see only `schema` (search_path)."""
    return create_async_engine(POSTGRES_URL, connect_args={"options": f"-csearch_path={schema}"})


@pytest.fixture(scope="module")
def server() -> Iterator[tuple[AppSlot, str]]:
    """One HTTP server per test module; each test puts its own fake's app in the slot."""
    slot = AppSlot()
    with serve_in_thread(slot) as base:
        yield slot, base

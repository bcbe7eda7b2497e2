"""Alembic migrations: the models' exact schema from empty, and release-v1 data upgraded in place."""

from __future__ import annotations

import asyncio
import re
import shutil
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, text
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

from app.jobs.models import ReviewJob
from app.jobs.queue import JobQueue
from app.storage.db import create_engine, migrate
from app.storage.migrations.env import ENGINE_PREFIX, ours
from app.storage.migrations.runner import UnknownSchemaError, alembic_config, head_revision
from app.storage.models import RunStatus
from app.storage.repository import Store
from app.storage.tables import metadata
from app.webhooks.inbox import DeliveryInbox
from app.webhooks.intake import delivery_record
from app.webhooks.intents import Intent
from tests.conftest import engine_in_schema, postgres_schema

RELEASE_V1 = Path(__file__).resolve().parents[2] / "fixtures" / "release_v1"
VERSIONS = Path(__file__).resolve().parents[3] / "app" / "storage" / "migrations" / "versions"


def schema_diff(conn: Connection) -> list[Any]:
    """What autogenerate would change to make the database match the models (empty = identical)."""
    opts = {"compare_type": True, "compare_server_default": True, "include_name": ours}
    context = MigrationContext.configure(conn, opts=opts)
    return list(compare_metadata(context, metadata))


async def diff_and_tables(engine: AsyncEngine) -> tuple[list[Any], set[str]]:
    async with engine.connect() as conn:
        diff = await conn.run_sync(schema_diff)
        names = await conn.run_sync(lambda c: set(inspect(c).get_table_names()))
    # PostgreSQL also holds the job engine's tables (revision 0005); they are procrastinate's schema.
    tables = {t for t in names if not t.startswith(ENGINE_PREFIX)}
    return diff, tables


async def accept_delivery(engine: AsyncEngine, delivery_id: str, event: str, action: str | None) -> bool:
    record = delivery_record(delivery_id, event, action, Intent(outcome="x"))
    return await DeliveryInbox(engine).record(record)


async def test_empty_database_upgrades_to_exactly_the_models_schema(blank_engine: AsyncEngine) -> None:
    assert await migrate(blank_engine) == head_revision()
    diff, tables = await diff_and_tables(blank_engine)
    assert diff == []
    assert tables == set(metadata.tables) | {"alembic_version"}


async def test_migrating_again_changes_nothing(blank_engine: AsyncEngine) -> None:
    await migrate(blank_engine)
    assert await accept_delivery(blank_engine, "d-1", "ping", None)
    assert await migrate(blank_engine) == head_revision()
    assert not await accept_delivery(blank_engine, "d-1", "ping", None)


async def test_every_revision_downgrades_and_upgrades_again(blank_engine: AsyncEngine) -> None:
    await migrate(blank_engine)

    def down_to_base(conn: Connection) -> None:
        command.downgrade(alembic_config(conn), "base")

    async with blank_engine.begin() as conn:
        await conn.run_sync(down_to_base)
    _, tables = await diff_and_tables(blank_engine)
    assert tables <= {"alembic_version", "schema_version"}
    assert await migrate(blank_engine) == head_revision()
    assert (await diff_and_tables(blank_engine))[0] == []


def test_revisions_form_one_numbered_line() -> None:
    """Two branches adding the same number, or a forked history, fail here before they reach main."""
    script = ScriptDirectory.from_config(alembic_config())
    assert len(script.get_heads()) == 1, f"several heads: {script.get_heads()}; renumber the newer one"
    chain = list(reversed(list(script.walk_revisions())))
    for number, rev in enumerate(chain, start=1):
        assert re.fullmatch(rf"{number:04d}_[a-z0-9_]+", rev.revision), rev.revision
        assert rev.path is not None and Path(rev.path).stem == rev.revision
    files = {p.stem for p in VERSIONS.glob("[0-9]*.py")}
    assert files == {rev.revision for rev in chain}


async def assert_release_v1_data_intact(engine: AsyncEngine) -> None:
    store = Store(engine)
    run = await store.get_run("run-legacy-1")
    assert run is not None
    assert (run.status, run.cost_usd, run.summary) == (RunStatus.POSTED, 0.0123, "## Summary\nünïcode ✓")
    assert [(f.path, f.line, f.outcome) for f in run.findings] == [("src/app.py", 3, "inline comment")]
    assert [(s.path, s.reason) for s in run.skipped] == [("logo.png", "binary")]
    assert run.timings == {"gather": 0.25, "model": 1.5, "post": 0.5}
    assert run.started_at.tzinfo is not None
    state = await store.pull_state("octo-org/hello-world", 7)
    assert (state.paused, state.last_reviewed_head) == (True, "b" * 40)
    assert await store.posted_fingerprints("octo-org/hello-world", 7) == {"f" * 64}
    # The delivery id still makes a redelivery idempotent, and the queued review is still claimable.
    assert not await accept_delivery(engine, "d-legacy-1", "pull_request", "opened")
    claimed = await JobQueue(engine).claim("worker-1")
    assert claimed is not None and claimed.id == 1
    assert ReviewJob.model_validate(claimed.payload).check_run_id == 555
    # New rows continue after the old ones.
    await store.remember_fingerprints("octo-org/hello-world", 7, "run-2", [("e" * 64, "b.py")])
    assert len(await store.posted_fingerprints("octo-org/hello-world", 7)) == 2


async def test_release_v1_sqlite_file_upgrades_in_place(tmp_path: Path) -> None:
    path = tmp_path / "mini-review.db"
    shutil.copyfile(RELEASE_V1 / "release-v1.sqlite3", path)
    engine = create_engine(f"sqlite+aiosqlite:///{path}")
    try:
        assert await migrate(engine) == head_revision()
        diff, tables = await diff_and_tables(engine)
        assert diff == []
        assert "schema_version" not in tables
        await assert_release_v1_data_intact(engine)
    finally:
        await engine.dispose()


async def load_release_v1_postgresql(engine: AsyncEngine, schema: str) -> None:
    dump = (RELEASE_V1 / "release-v1.postgresql.sql").read_text().replace("{schema}", schema)
    async with engine.connect() as conn:
        raw = await conn.get_raw_connection()
        await raw.driver_connection.execute(dump)  # type: ignore[union-attr]
        await raw.driver_connection.commit()  # type: ignore[union-attr]  # psycopg opened a transaction


async def test_release_v1_postgresql_schema_upgrades_in_place() -> None:
    async with postgres_schema() as schema:
        engine = engine_in_schema(schema)
        try:
            await load_release_v1_postgresql(engine, schema)
            assert await migrate(engine) == head_revision()
            diff, tables = await diff_and_tables(engine)
            assert diff == []
            assert "schema_version" not in tables
            await assert_release_v1_data_intact(engine)
        finally:
            await engine.dispose()


async def test_a_schema_version_this_release_never_wrote_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "mini-review.db"
    shutil.copyfile(RELEASE_V1 / "release-v1.sqlite3", path)
    engine = create_engine(f"sqlite+aiosqlite:///{path}")
    try:
        async with engine.begin() as conn:
            await conn.execute(text("INSERT INTO schema_version VALUES (2, '2026-11-30 00:00:00')"))
        with pytest.raises(UnknownSchemaError, match="schema_version 2"):
            await migrate(engine)
    finally:
        await engine.dispose()


async def test_processes_starting_together_on_postgresql_migrate_one_at_a_time() -> None:
    async with postgres_schema() as schema:
        engines = [engine_in_schema(schema) for _ in range(4)]
        try:
            # Without the advisory lock their CREATE TABLEs collide or wait on each other: a deadline.
            revisions = await asyncio.wait_for(asyncio.gather(*(migrate(e) for e in engines)), 120)
            assert revisions == [head_revision()] * 4
            assert (await diff_and_tables(engines[0]))[0] == []
        finally:
            for e in engines:
                await e.dispose()

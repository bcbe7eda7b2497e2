"""Engine creation and start-up migrations (Alembic) for SQLite (embedded) and PostgreSQL (scale-out)."""

from __future__ import annotations

import asyncio
import datetime as dt
import weakref
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from sqlalchemy import Table, event
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

from app.storage.migrations.runner import upgrade_to_head

POSTGRES_DRIVERS = (
    "postgresql",
    "postgres",
    "postgresql+psycopg",
    "postgresql+asyncpg",
    "postgresql+psycopg2",
)


def normalise_url(url: str) -> str:
    """Pick the async driver (`postgres(ql)://…` → psycopg 3, `sqlite://` → aiosqlite).

    PostgreSQL always runs on psycopg 3, procrastinate's driver, so a delivery, its review request
    and the procrastinate job can be written on one connection in one transaction.
    """
    parsed = make_url(url)
    if parsed.drivername in POSTGRES_DRIVERS:
        parsed = parsed.set(drivername="postgresql+psycopg")
    elif parsed.drivername == "sqlite":
        parsed = parsed.set(drivername="sqlite+aiosqlite")
    return parsed.render_as_string(hide_password=False)


def is_sqlite(engine: AsyncEngine) -> bool:
    return engine.dialect.name == "sqlite"


def create_engine(url: str) -> AsyncEngine:
    url = normalise_url(url)
    # A pooled PostgreSQL connection can die with a failover or a restart; a SQLite file cannot, and
    # the ping was one more thread hop on every checkout of the webhook's write.
    engine = create_async_engine(url, pool_pre_ping=not url.startswith("sqlite"))
    if is_sqlite(engine):

        @event.listens_for(engine.sync_engine, "connect")
        def _sqlite_pragmas(dbapi_conn: Any, _record: object) -> None:
            # Let SQLAlchemy, not the driver, emit BEGIN: the driver's lazy BEGIN lets two
            # processes read the same queued job before either writes.
            dbapi_conn.isolation_level = None
            cursor = dbapi_conn.cursor()
            # WAL lets the dashboard read while the worker writes; busy_timeout waits out short locks.
            cursor.execute("PRAGMA journal_mode=WAL")
            # Durable against a killed process (kill -9: the WAL is in the OS's hands at commit), not
            # against power loss; skipping the fsync per commit is what lets webhooks be acknowledged
            # fast. https://www.sqlite.org/pragma.html#pragma_synchronous
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute("PRAGMA busy_timeout=10000")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.close()

        @event.listens_for(engine.sync_engine, "begin")
        def _sqlite_begin(conn: Any) -> None:
            # `immediate` takes the write lock up front (used by the queue's claim).
            immediate = conn.get_execution_options().get("sqlite_immediate", False)
            conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

    return engine


async def migrate(engine: AsyncEngine) -> str:
    """Upgrade the schema to the newest Alembic revision; safe to run from several processes at start.

    Returns the revision the database is at. See `app/storage/migrations` for how revisions are added.
    """
    async with write_transaction(engine) as conn:
        return await conn.run_sync(upgrade_to_head)


# One asyncio lock per (SQLite engine, event loop): see `write_transaction`.
_sqlite_writers: weakref.WeakKeyDictionary[
    Any, weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Lock]
] = weakref.WeakKeyDictionary()


def _sqlite_write_lock(engine: AsyncEngine) -> asyncio.Lock:
    per_loop = _sqlite_writers.setdefault(engine.sync_engine, weakref.WeakKeyDictionary())
    return per_loop.setdefault(asyncio.get_running_loop(), asyncio.Lock())


@asynccontextmanager
async def write_transaction(engine: AsyncEngine) -> AsyncIterator[AsyncConnection]:
    """A transaction that takes SQLite's write lock at BEGIN, for read-then-write work.

    A deferred SQLite transaction that reads, then writes while another connection holds the lock,
    fails at once with "database is locked" instead of waiting; IMMEDIATE waits (busy_timeout).
    Within one process, SQLite writers also queue on an asyncio lock first: SQLite's own busy
    handler waits by sleeping in growing steps, which under a burst of webhooks turned a 1 ms
    commit into seconds of tail latency; the lock hands the database over the moment it is free.
    """
    if not is_sqlite(engine):
        async with engine.connect() as conn, conn.begin():
            yield conn
        return
    async with _sqlite_write_lock(engine), engine.connect() as conn:
        conn = await conn.execution_options(sqlite_immediate=True)
        async with conn.begin():
            yield conn


def insert_for(conn: AsyncConnection, table: Table) -> postgresql.Insert | sqlite.Insert:
    """An INSERT in the connection's dialect, which offers `ON CONFLICT` (both databases have it)."""
    if conn.dialect.name == "postgresql":
        return postgresql.insert(table)
    return sqlite.insert(table)


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)

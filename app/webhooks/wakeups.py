"""Cross-process wake-ups for the delivery applier on PostgreSQL (LISTEN/NOTIFY).

On PostgreSQL a web process without a worker only records deliveries; the workers apply them. The
inbox's commit carries a NOTIFY on `INBOX_CHANNEL`, and every worker's applier LISTENs on its own
connection, so a recorded delivery is applied within milliseconds instead of at the next poll. A
lost connection is opened again; the applier's poll covers whatever was missed meanwhile.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

import psycopg
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

log = logging.getLogger(__name__)
INBOX_CHANNEL = "mini_review_inbox"
NOTIFY_INBOX = text(f"SELECT pg_notify('{INBOX_CHANNEL}', '')")


async def notify_inbox(conn: AsyncConnection) -> None:
    """Wake every listening applier when the caller's transaction commits (PostgreSQL only)."""
    if conn.dialect.name == "postgresql":
        await conn.execute(NOTIFY_INBOX)


async def listen_forever(conninfo: str, on_notify: Callable[[], None], *, retry_s: float = 1.0) -> None:
    """Call `on_notify` for every NOTIFY on the inbox channel, reconnecting after any failure."""
    while True:
        try:
            async with await psycopg.AsyncConnection.connect(conninfo, autocommit=True) as conn:
                await conn.execute(f"LISTEN {INBOX_CHANNEL}")
                on_notify()  # whatever was recorded while we were not listening
                async for _ in conn.notifies():
                    on_notify()
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # noqa: BLE001 - a lost connection: listen again shortly
            log.warning("listening for recorded deliveries failed (%s); retrying", type(exc).__name__)
        await asyncio.sleep(retry_s)

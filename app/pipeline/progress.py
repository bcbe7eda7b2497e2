"""How far a run has got, for the dashboard's live run page; and the repository-wide pause it sets.

Reporting progress must never break a review: failures are logged and forgotten. Chunk counts are
written at most every `min_interval` seconds (and always for the last chunk) to spare the database.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from typing import Any, Protocol

log = logging.getLogger(__name__)


class DashboardPort(Protocol):
    async def report_progress(self, run_id: str, **values: Any) -> None: ...

    async def repo_paused(self, repo: str) -> bool: ...


class RunProgress:
    def __init__(self, port: DashboardPort | None, run_id: str, *, min_interval: float = 0.5) -> None:
        self.port = port
        self.run_id = run_id
        self.min_interval = min_interval
        self.done = 0
        self.total = 0
        self._last_write = 0.0

    async def _write(self, **values: Any) -> None:
        if self.port is None:
            return
        self._last_write = time.monotonic()
        try:
            await self.port.report_progress(self.run_id, **values)
        except Exception:  # noqa: BLE001 - progress is a nicety; the review goes on
            log.warning("could not record the progress of run %s", self.run_id, exc_info=True)

    async def started(self, *, pr_title: str, installation_id: int) -> None:
        await self._write(pr_title=pr_title, installation_id=installation_id, stage="gather")

    async def stage(self, name: str) -> None:
        await self._write(stage=name)

    async def reviewing(self, chunks: int, paths: Sequence[str]) -> None:
        self.total, self.done = chunks, 0
        files = sorted(set(paths))
        await self._write(stage="model", chunks_total=chunks, chunks_done=0, reviewed_files=files)

    async def chunk_done(self) -> None:
        self.done += 1
        if self.done >= self.total or time.monotonic() - self._last_write >= self.min_interval:
            await self._write(chunks_done=self.done)

    async def repo_paused(self, repo: str) -> bool:
        if self.port is None:
            return False
        return await self.port.repo_paused(repo)

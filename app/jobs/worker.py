"""The worker loop: claim a job, run its handler under a renewed lease, record the outcome."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import secrets
from collections.abc import Awaitable, Callable, Mapping

from app.errors import PermanentError, RetryableError
from app.jobs.queue import ClaimedJob, JobQueue

log = logging.getLogger(__name__)

Handler = Callable[[ClaimedJob], Awaitable[None]]


def retry_delay(
    attempt: int, *, base_s: float = 5.0, cap_s: float = 300.0, hint: float | None = None
) -> float:
    """Backoff with full jitter, never sooner than the server's Retry-After hint."""
    delay = random.uniform(0, min(cap_s, base_s * 2 ** (attempt - 1)))
    return max(delay, hint or 0.0)


class Worker:
    """Runs up to `concurrency` jobs at once; one job per PR at a time is the queue's promise."""

    def __init__(
        self,
        queue: JobQueue,
        handlers: Mapping[str, Handler],
        *,
        concurrency: int = 4,
        poll_interval_s: float = 1.0,
        lease_s: float = 300.0,
    ) -> None:
        self._queue = queue
        self._handlers = handlers
        self._concurrency = concurrency
        self._poll = poll_interval_s
        self._heartbeat_every = max(lease_s / 3, 0.05)
        self.worker_id = f"w-{secrets.token_hex(4)}"
        self._tasks: list[asyncio.Task[None]] = []
        self._stopping = asyncio.Event()

    def start(self) -> None:
        for n in range(self._concurrency):
            self._tasks.append(asyncio.create_task(self._loop(), name=f"{self.worker_id}-{n}"))

    async def stop(self) -> None:
        self._stopping.set()
        self._queue.wakeup.set()
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks.clear()

    async def _loop(self) -> None:
        while not self._stopping.is_set():
            try:
                job = await self._queue.claim(self.worker_id)
            except Exception:  # noqa: BLE001 - the loop must survive a database hiccup
                log.exception("worker %s: claiming a job failed", self.worker_id)
                job = None
            if job is None:
                await self._idle()
                continue
            await self.run_one(job)

    async def _idle(self) -> None:
        self._queue.wakeup.clear()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._queue.wakeup.wait(), timeout=self._poll)

    async def run_one(self, job: ClaimedJob) -> None:
        handler = self._handlers.get(job.kind)
        if handler is None:
            await self._queue.fail(job.id, f"no handler for job kind {job.kind!r}", retry_in_s=None)
            return
        beat = asyncio.create_task(self._heartbeat(job.id))
        try:
            await handler(job)
        except asyncio.CancelledError:
            # Shutting down: hand the job back now instead of waiting for its lease to run out.
            with contextlib.suppress(Exception):
                await asyncio.shield(self._queue.fail(job.id, "worker stopped", retry_in_s=0))
            raise
        except RetryableError as exc:
            await self._retry_or_give_up(job, exc, hint=exc.retry_after)
        except PermanentError as exc:
            log.warning("job %s (%s %s) failed for good: %s", job.id, job.kind, job.pr_key, exc)
            await self._queue.fail(job.id, str(exc), retry_in_s=None)
        except Exception as exc:  # noqa: BLE001 - the one blanket catch: log it, keep the job
            log.exception("job %s (%s %s) crashed", job.id, job.kind, job.pr_key)
            await self._retry_or_give_up(job, exc, hint=None)
        else:
            await self._queue.complete(job.id)
        finally:
            beat.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await beat

    async def _retry_or_give_up(self, job: ClaimedJob, exc: BaseException, *, hint: float | None) -> None:
        message = f"{type(exc).__name__}: {exc}"
        if job.attempts >= self._queue.max_attempts:
            log.warning(
                "job %s (%s %s) gave up after %d attempts: %s",
                job.id,
                job.kind,
                job.pr_key,
                job.attempts,
                message,
            )
            await self._queue.fail(job.id, message, retry_in_s=None)
            return
        delay = retry_delay(job.attempts, hint=hint)
        log.info("job %s (%s %s) will retry in %.1fs: %s", job.id, job.kind, job.pr_key, delay, message)
        await self._queue.fail(job.id, message, retry_in_s=delay)

    async def _heartbeat(self, job_id: int) -> None:
        while True:
            await asyncio.sleep(self._heartbeat_every)
            try:
                await self._queue.heartbeat(job_id, self.worker_id)
            except Exception:  # noqa: BLE001 - a missed beat only shortens the lease
                log.warning("worker %s: lease renewal for job %s failed", self.worker_id, job_id)

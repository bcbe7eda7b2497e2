"""Running claimed jobs: the runner shared by both engines, and the embedded (SQLite) worker loops."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import secrets
import traceback
from collections.abc import Awaitable, Callable, Mapping

from app.errors import PermanentError, RetryableError, public_reason
from app.jobs.queue import ClaimedJob, JobQueue, redacted_error

log = logging.getLogger(__name__)

Handler = Callable[[ClaimedJob], Awaitable[None]]
# Finish what a dead job left open; the reason is shown to users (check run, run page), so it never
# quotes an unexpected error's message.
GiveUp = Callable[[ClaimedJob, str], Awaitable[None]]


def retry_delay(
    attempt: int, *, base_s: float = 5.0, cap_s: float = 300.0, hint: float | None = None
) -> float:
    """Backoff with full jitter, never sooner than the server's Retry-After hint."""
    delay = random.uniform(0, min(cap_s, base_s * 2 ** (attempt - 1)))
    return max(delay, hint or 0.0)


def described(exc: BaseException) -> str:
    """An error's type and message for the log and `jobs.last_error`; secrets it quotes redacted."""
    return redacted_error(f"{type(exc).__name__}: {exc}")


def log_error(what: str, exc: BaseException) -> None:
    """Log an error with its traceback, redacted: a message may quote a token, a key or a DSN."""
    trace = "".join(traceback.format_exception(exc))
    log.error("%s\n%s", what, redacted_error(trace, limit=None))


class JobRunner:
    """Run one claimed job under a renewed lease and record its outcome; never raises but Cancelled."""

    def __init__(
        self,
        queue: JobQueue,
        handlers: Mapping[str, Handler],
        *,
        give_up: Mapping[str, GiveUp] | None = None,
        lease_s: float = 300.0,
    ) -> None:
        self.queue = queue
        self._handlers = handlers
        self._give_up = give_up or {}
        self._heartbeat_every = max(lease_s / 3, 0.05)

    async def run_one(self, job: ClaimedJob) -> None:
        try:
            await self._run(job)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # noqa: BLE001 - recording an outcome failed (database down): the lease expires
            log_error(f"job {job.id} ({job.kind} {job.pr_key}): recording its outcome failed", exc)

    async def _run(self, job: ClaimedJob) -> None:
        if job.exhausted:
            await self._abandon(job, f"gave up after {job.attempts} attempts that all died")
            return
        handler = self._handlers.get(job.kind)
        if handler is None:
            await self.queue.fail(job, f"no handler for job kind {job.kind!r}", retry_in_s=None)
            return
        beat = asyncio.create_task(self._heartbeat(job))
        try:
            await handler(job)
        except asyncio.CancelledError:
            # Shutting down: hand the job back now instead of waiting for its lease to run out.
            with contextlib.suppress(Exception):
                await asyncio.shield(self.queue.fail(job, "worker stopped", retry_in_s=0))
            raise
        except RetryableError as exc:
            await self._retry_or_give_up(job, exc, hint=exc.retry_after)
        except PermanentError as exc:
            message = redacted_error(str(exc))
            log.warning("job %s (%s %s) failed for good: %s", job.id, job.kind, job.pr_key, message)
            await self.queue.fail(job, message, retry_in_s=None)
        except Exception as exc:  # noqa: BLE001 - the one blanket catch: log it, keep the job
            log_error(f"job {job.id} ({job.kind} {job.pr_key}) crashed", exc)
            await self._retry_or_give_up(job, exc, hint=None)
        else:
            if not await self.queue.complete(job):
                log.warning(
                    "job %s (%s): lease lost before completion, left to its new holder", job.id, job.kind
                )
        finally:
            beat.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await beat

    async def _retry_or_give_up(self, job: ClaimedJob, exc: BaseException, *, hint: float | None) -> None:
        message = described(exc)
        if job.attempts >= self.queue.max_attempts:
            log.warning(
                "job %s (%s %s) gave up after %d attempts: %s",
                job.id,
                job.kind,
                job.pr_key,
                job.attempts,
                message,
            )
            if await self.queue.fail(job, message, retry_in_s=None):
                await self._abandon(job, f"gave up after {job.attempts} attempts: {public_reason(exc)}")
            return
        delay = retry_delay(job.attempts, hint=hint)
        log.info("job %s (%s %s) will retry in %.1fs: %s", job.id, job.kind, job.pr_key, delay, message)
        await self.queue.fail(job, message, retry_in_s=delay)

    async def _abandon(self, job: ClaimedJob, reason: str) -> None:
        give_up = self._give_up.get(job.kind)
        if give_up is None:
            return
        try:
            await give_up(job, reason)
        except Exception as exc:  # noqa: BLE001 - best effort: the job itself is already failed
            log_error(f"job {job.id} ({job.kind} {job.pr_key}): closing what it left open failed", exc)

    async def _heartbeat(self, job: ClaimedJob) -> None:
        while True:
            await asyncio.sleep(self._heartbeat_every)
            try:
                if not await self.queue.heartbeat(job):
                    log.warning("job %s (%s): lease lost to another worker", job.id, job.kind)
            except Exception:  # noqa: BLE001 - a missed beat only shortens the lease
                log.warning("lease renewal for job %s failed", job.id)


class Worker:
    """The embedded engine: `concurrency` loops claiming from the SQLite queue in this process."""

    def __init__(
        self,
        runner: JobRunner,
        *,
        concurrency: int = 4,
        poll_interval_s: float = 1.0,
    ) -> None:
        self._runner = runner
        self._queue = runner.queue
        self._concurrency = concurrency
        self._poll = poll_interval_s
        self.worker_id = f"w-{secrets.token_hex(4)}"
        self._tasks: list[asyncio.Task[None]] = []
        self._busy: set[asyncio.Task[None]] = set()
        self._stopping = asyncio.Event()

    def start(self) -> None:
        for n in range(self._concurrency):
            self._tasks.append(asyncio.create_task(self._loop(), name=f"{self.worker_id}-{n}"))

    def alive(self) -> bool:
        """Every loop is still running (readiness)."""
        return bool(self._tasks) and not any(t.done() for t in self._tasks)

    async def stop(self, grace_s: float = 0.0) -> None:
        """Stop claiming; give running jobs `grace_s` to finish, then hand the rest back."""
        self._stopping.set()
        self._queue.wakeup.set()
        if grace_s > 0 and self._busy:
            await asyncio.wait(list(self._busy), timeout=grace_s)
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
            except Exception as exc:  # noqa: BLE001 - the loop must survive a database hiccup
                log_error(f"worker {self.worker_id}: claiming a job failed", exc)
                job = None
            if job is None:
                await self._idle()
                continue
            # Shielded so a graceful stop can wait for it; cancelling the loop cancels it too.
            run = asyncio.create_task(self._runner.run_one(job))
            self._busy.add(run)
            try:
                await asyncio.shield(run)
            except asyncio.CancelledError:
                run.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await run
                raise
            finally:
                self._busy.discard(run)

    async def _idle(self) -> None:
        self._queue.wakeup.clear()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._queue.wakeup.wait(), timeout=self._poll)

"""Job handlers for the worker: kind → coroutine, each a thin task around the pipeline's core."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from app.conversation.ports import ConversationGitHub, StructuredModel
from app.conversation.service import answer_thread_reply
from app.conversation.store import ConversationStore
from app.errors import RetryableError
from app.jobs.models import CheckJob, CloseChecksJob, CommandJob, JobKind, ReviewJob, ThreadReplyJob, pr_key
from app.jobs.queue import ClaimedJob, JobQueue, enqueue
from app.jobs.worker import GiveUp, Handler
from app.pipeline.checks import SUPERSEDED, close_check_runs
from app.pipeline.commands import handle_command
from app.pipeline.ports import GitHubPort, InstallationClients, ReviewerPort
from app.pipeline.progress import DashboardPort
from app.pipeline.recovery import (
    close_orphans,
    close_posted,
    close_unfinished,
    open_check_run,
    posted_on_head,
    recorded_or_closed,
)
from app.pipeline.run import ReviewRun, new_run_id
from app.settings import Settings
from app.storage.db import write_transaction
from app.storage.repository import Store

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class WorkerDeps:
    """The adapters the worker's handlers use; built by `app.wiring`."""

    settings: Settings
    store: Store
    queue: JobQueue
    github: InstallationClients
    reviewer: ReviewerPort
    model: StructuredModel | None = None  # thread answers, asks and fix checks (conversation)
    dashboard: DashboardPort | None = None  # live progress and the repository-wide pause


class JobHandlers:
    """One coroutine per job kind: validate the payload, open the installation's API, call the core."""

    def __init__(self, deps: WorkerDeps) -> None:
        self.deps = deps

    def table(self) -> dict[str, Handler]:
        return {
            JobKind.REVIEW: self.review,
            JobKind.COMMAND: self.command,
            JobKind.CHECK: self.check,
            JobKind.CLOSE_CHECKS: self.close_checks,
            JobKind.THREAD_REPLY: self.thread_reply,
        }

    async def enqueue_review(self, job: ReviewJob) -> None:
        async with write_transaction(self.deps.store.engine) as conn:
            await enqueue(
                conn,
                kind=JobKind.REVIEW,
                key=pr_key(job.repo, job.number),
                payload=job.model_dump(mode="json"),
            )
        self.deps.queue.wakeup.set()

    async def review(self, claimed: ClaimedJob) -> None:
        job = ReviewJob.model_validate(claimed.payload)
        deps = self.deps
        api = await deps.github.for_installation(job.repo.installation_id)
        if claimed.attempts > 1:
            # An earlier attempt died: close its run record; its GitHub writes are reused below.
            await deps.store.close_open_runs(job.repo.full_name, job.number, "the worker stopped")
        if not job.is_explicit():
            # GitHub's head can be ahead of the queue (an earlier review, or a dead attempt, may
            # have covered it): an automatic review never posts, or pays for, a head twice.
            head = (await api.get_pull(job.repo, job.number)).head_sha
            own = await deps.github.bot_login()
            if await posted_on_head(api, job.repo, job.number, head, bot_login=own):
                await close_posted(api, job)
                return
        if job.check_run_id is None:
            job = await self._open_check_run(claimed, job, api)
        await ReviewRun(
            job,
            api=api,
            store=deps.store,
            reviewer=deps.reviewer,
            settings=deps.settings,
            final_attempt=claimed.attempts >= deps.queue.max_attempts,
            bot_login=await deps.github.bot_login(),
            conversation=ConversationStore(deps.store.engine),
            model=deps.model,
            dashboard=deps.dashboard,
        ).execute()

    async def _open_check_run(self, claimed: ClaimedJob, job: ReviewJob, api: GitHubPort) -> ReviewJob:
        """Create (or adopt) the head's check run and record it with the job before anything can fail.

        Recorded, every retry reuses it and a give-up closes it; when recording fails, no later
        attempt would know it, so it is completed here instead of staying queued.
        """
        queue = self.deps.queue
        run_id = job.run_id or new_run_id()
        url = self.deps.settings.run_url(run_id)
        check_run_id = await open_check_run(
            api, job.repo, number=job.number, head_sha=job.head_sha, run_url=url
        )
        job = job.model_copy(update={"check_run_id": check_run_id, "run_id": run_id})
        final = claimed.attempts >= queue.max_attempts
        if not await recorded_or_closed(
            api, job.repo, check_run_id, queue.save_payload(claimed, job.model_dump(mode="json")), final=final
        ):
            # Another worker holds the job now (our lease ran out): it adopts the queued check run.
            raise RetryableError("the job's lease ran out before its review started")
        return job

    async def command(self, claimed: ClaimedJob) -> None:
        job = CommandJob.model_validate(claimed.payload)
        await handle_command(
            job,
            api=await self.deps.github.for_installation(job.repo.installation_id),
            store=self.deps.store,
            settings=self.deps.settings,
            enqueue_review=self.enqueue_review,
            bot_login=await self.deps.github.bot_login(),
            model=self.deps.model,
            conversation=ConversationStore(self.deps.store.engine),
        )

    async def thread_reply(self, claimed: ClaimedJob) -> None:
        job = ThreadReplyJob.model_validate(claimed.payload)
        deps = self.deps
        api = await deps.github.for_installation(job.repo.installation_id)
        if deps.model is None or not isinstance(api, ConversationGitHub):
            return
        outcome = await answer_thread_reply(
            job,
            api=api,
            store=ConversationStore(deps.store.engine),
            model=deps.model,
            settings=deps.settings,
            bot_login=await deps.github.bot_login(),
        )
        log.info("thread reply %s on %s#%s: %s", job.comment_id, job.repo.full_name, job.number, outcome)

    async def check(self, claimed: ClaimedJob) -> None:
        job = CheckJob.model_validate(claimed.payload)
        deps = self.deps
        pending = await deps.queue.queued_review(claimed.pr_key)
        wanted = pending is not None and pending.head_sha == job.head_sha
        if not wanted or (pending is not None and pending.check_run_id is not None):
            # Nothing to create: that head's review started, a newer push replaced it, or an earlier
            # attempt attached one. An earlier attempt that died may have left one open, though.
            if claimed.attempts > 1:
                api = await deps.github.for_installation(job.repo.installation_id)
                keep = pending.all_check_run_ids() if pending is not None else []
                await close_orphans(api, job.repo, job.head_sha, keep=keep)
            return
        api = await deps.github.for_installation(job.repo.installation_id)
        # The run id is chosen now so the queued check run already links to the page of its run.
        run_id = new_run_id()
        url = deps.settings.run_url(run_id)
        check_run_id = await open_check_run(
            api, job.repo, number=job.number, head_sha=job.head_sha, run_url=url
        )
        attach = deps.queue.attach_check_run(claimed.pr_key, job.head_sha, check_run_id, run_id)
        if not await recorded_or_closed(api, job.repo, check_run_id, attach, final=False):
            await close_check_runs(api, job.repo, [check_run_id], title="Superseded", summary=SUPERSEDED)

    async def close_checks(self, claimed: ClaimedJob) -> None:
        job = CloseChecksJob.model_validate(claimed.payload)
        await close_check_runs(
            await self.deps.github.for_installation(job.repo.installation_id),
            job.repo,
            job.check_run_ids,
            title="Cancelled",
            summary="The pull request was closed.",
            conclusion="cancelled",
        )


def build_handlers(deps: WorkerDeps) -> dict[str, Handler]:
    return JobHandlers(deps).table()


async def _recorded_check_run_ids(queue: JobQueue, claimed: ClaimedJob) -> list[int]:
    try:
        stored = await queue.stored_payload(claimed.id)
    except Exception:  # noqa: BLE001 - the database is down: the claim's own ids are closed still
        log.warning("job %s: its stored payload could not be read", claimed.id, exc_info=True)
        return []
    return [] if stored is None else ReviewJob.model_validate(stored).all_check_run_ids()


def build_give_up(deps: WorkerDeps) -> dict[str, GiveUp]:
    """What to close when a job is given up for good: nothing may stay queued or in progress."""

    async def review(claimed: ClaimedJob, reason: str) -> None:
        job = ReviewJob.model_validate(claimed.payload)
        # The claim's payload is what the attempt started with; the check runs it recorded since
        # (`save_payload`) are in the stored one. One the last attempt completed keeps its outcome.
        ids = sorted({*job.all_check_run_ids(), *await _recorded_check_run_ids(deps.queue, claimed)})
        if ids:
            api = await deps.github.for_installation(job.repo.installation_id)
            summary = f"mini-review {reason[:1900]}. The review was not completed."
            await close_unfinished(api, job.repo, job.head_sha, ids, title="Review failed", summary=summary)
        await deps.store.close_open_runs(job.repo.full_name, job.number, reason)

    async def check(claimed: ClaimedJob, reason: str) -> None:
        # The attempts may have created the head's check run and died before recording it: close
        # whatever queued one no queued review holds (a review still to come creates its own).
        job = CheckJob.model_validate(claimed.payload)
        pending = await deps.queue.queued_review(claimed.pr_key)
        keep = pending.all_check_run_ids() if pending is not None else []
        api = await deps.github.for_installation(job.repo.installation_id)
        await close_orphans(api, job.repo, job.head_sha, keep=keep)
        log.warning("check job for %s#%s given up: %s", job.repo.full_name, job.number, reason[:200])

    return {JobKind.REVIEW: review, JobKind.CHECK: check}

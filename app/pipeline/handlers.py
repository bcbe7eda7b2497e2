"""Job handlers for the worker: kind → coroutine, wired to the process's adapters."""

from __future__ import annotations

from typing import TYPE_CHECKING

from app.jobs.models import CheckJob, CloseChecksJob, CommandJob, ReviewJob, pr_key
from app.jobs.queue import ClaimedJob, enqueue
from app.jobs.worker import Handler
from app.pipeline.checks import SUPERSEDED, close_check_runs, create_queued_check
from app.pipeline.commands import handle_command
from app.pipeline.review_run import ReviewRun, new_run_id
from app.storage.db import write_transaction

if TYPE_CHECKING:
    from app.services import Services


def build_handlers(services: Services) -> dict[str, Handler]:
    async def enqueue_review(job: ReviewJob) -> None:
        async with write_transaction(services.store.engine) as conn:
            await enqueue(
                conn, kind="review", key=pr_key(job.repo, job.number), payload=job.model_dump(mode="json")
            )
        services.queue.wakeup.set()

    async def review(claimed: ClaimedJob) -> None:
        job = ReviewJob.model_validate(claimed.payload)
        api = await services.github.for_installation(job.repo.installation_id)
        await ReviewRun(
            job,
            api=api,
            store=services.store,
            model=services.model,
            settings=services.settings,
            final_attempt=claimed.attempts >= services.queue.max_attempts,
        ).execute()

    async def command(claimed: ClaimedJob) -> None:
        job = CommandJob.model_validate(claimed.payload)
        api = await services.github.for_installation(job.repo.installation_id)
        await handle_command(
            job, api=api, store=services.store, settings=services.settings, enqueue_review=enqueue_review
        )

    async def check(claimed: ClaimedJob) -> None:
        job = CheckJob.model_validate(claimed.payload)
        pending = await services.queue.queued_review(claimed.pr_key)
        if pending is None or pending.head_sha != job.head_sha:
            return  # that head's review already started, or a newer push replaced it
        api = await services.github.for_installation(job.repo.installation_id)
        repo = job.repo
        # The run id is chosen now so the queued check run already links to the page of its run.
        run_id = new_run_id()
        url = services.settings.run_url(run_id)
        check_run_id = await create_queued_check(
            api, repo, number=job.number, head_sha=job.head_sha, run_url=url
        )
        if not await services.queue.attach_check_run(claimed.pr_key, job.head_sha, check_run_id, run_id):
            await close_check_runs(api, repo, [check_run_id], title="Superseded", summary=SUPERSEDED)

    async def close_checks(claimed: ClaimedJob) -> None:
        job = CloseChecksJob.model_validate(claimed.payload)
        api = await services.github.for_installation(job.repo.installation_id)
        repo = job.repo
        await close_check_runs(
            api,
            repo,
            job.check_run_ids,
            title="Cancelled",
            summary="The pull request was closed.",
            conclusion="cancelled",
        )

    return {"review": review, "command": command, "check": check, "close_checks": close_checks}

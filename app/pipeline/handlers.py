"""Job handlers for the worker: kind → coroutine, wired to the process's adapters."""

from __future__ import annotations

from typing import TYPE_CHECKING

from app.jobs.models import CommandJob, ReviewJob, pr_key
from app.jobs.queue import ClaimedJob, enqueue
from app.jobs.worker import Handler
from app.pipeline.commands import handle_command
from app.pipeline.review_run import ReviewRun

if TYPE_CHECKING:
    from app.services import Services


def build_handlers(services: Services) -> dict[str, Handler]:
    async def enqueue_review(job: ReviewJob) -> None:
        async with services.store.engine.begin() as conn:
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

    return {"review": review, "command": command}

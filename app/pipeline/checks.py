"""The "mini-review" check run on the PR head: queued → in_progress → completed, never left hanging."""

from __future__ import annotations

import datetime as dt
import logging

from app.errors import GitHubError
from app.github.models import CheckRunConclusion, PullRequestInfo, RepoRef
from app.pipeline.ports import GitHubPort
from app.product import CHECK_RUN_NAME

log = logging.getLogger(__name__)


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def external_id(repo: RepoRef, number: int) -> str:
    # Lets a `check_run.rerequested` without `pull_requests` (forks) find its PR again.
    return f"{repo.full_name}#{number}"


async def create_queued_check(
    api: GitHubPort, repo: RepoRef, *, number: int, head_sha: str, run_url: str
) -> int:
    return await api.create_check_run(
        repo,
        head_sha=head_sha,
        name=CHECK_RUN_NAME,
        status="queued",
        details_url=run_url,
        external_id=external_id(repo, number),
    )


SUPERSEDED = "Newer commits were pushed; the newest head is reviewed instead."
RETRIED_ELSEWHERE = "The review is tried again and reports in a check run of its own."
FAILED_TITLE = "mini-review could not complete the review"


async def close_check_runs(
    api: GitHubPort,
    repo: RepoRef,
    check_run_ids: list[int],
    *,
    title: str,
    summary: str,
    conclusion: CheckRunConclusion = "neutral",
) -> None:
    """Complete check runs that will never run, so none stays `queued` on the PR."""
    for check_run_id in check_run_ids:
        try:
            await api.update_check_run(
                repo,
                check_run_id,
                status="completed",
                conclusion=conclusion,
                completed_at=_now(),
                title=title,
                summary=summary,
            )
        except GitHubError as exc:
            log.warning("check run %s could not be closed: %s", check_run_id, exc)


async def mark_retrying(api: GitHubPort, repo: RepoRef, check_run_id: int, summary: str) -> None:
    """Show a check run as queued again, saying why: the job's next attempt reuses it."""
    try:
        await api.update_check_run(
            repo, check_run_id, status="queued", title="Retrying", summary=summary[:2000]
        )
    except GitHubError as exc:
        log.warning("check run %s could not be re-queued: %s", check_run_id, exc)


class CheckRunReporter:
    """Moves one check run through its states; GitHub errors here never fail the review itself.

    A check run handed in is recorded with the job, so a retry reuses it. One this reporter had to
    create itself is known to no later attempt: a retry makes its own, so this one is completed.
    """

    def __init__(
        self, api: GitHubPort, repo: RepoRef, pr: PullRequestInfo, *, run_url: str, check_run_id: int | None
    ) -> None:
        self.api = api
        self.repo = repo
        self.pr = pr
        self.run_url = run_url
        self.check_run_id = check_run_id
        self._created = False
        self._done = False

    async def start(self) -> None:
        if self.check_run_id is None:
            await self._create()
            return
        try:
            await self.api.update_check_run(
                self.repo,
                self.check_run_id,
                status="in_progress",
                started_at=_now(),
                details_url=self.run_url,
            )
        except GitHubError as exc:
            # Keep it: finishing it later may still work, and forgetting it would leave it queued.
            log.warning("check run %s could not start: %s", self.check_run_id, exc)

    async def _create(self) -> None:
        try:
            self.check_run_id = await self.api.create_check_run(
                self.repo,
                head_sha=self.pr.head_sha,
                name=CHECK_RUN_NAME,
                status="in_progress",
                details_url=self.run_url,
                external_id=external_id(self.repo, self.pr.number),
                started_at=_now(),
            )
            self._created = True
        except GitHubError as exc:
            log.warning("check run for %s#%s could not start: %s", self.repo.full_name, self.pr.number, exc)

    async def finish(self, conclusion: CheckRunConclusion, title: str, summary: str) -> None:
        if self.check_run_id is None or self._done:
            return
        try:
            await self.api.update_check_run(
                self.repo,
                self.check_run_id,
                status="completed",
                conclusion=conclusion,
                completed_at=_now(),
                details_url=self.run_url,
                title=title[:200],
                summary=summary[:65_000],
            )
            self._done = True
        except GitHubError as exc:
            log.warning("check run %s could not complete: %s", self.check_run_id, exc)

    async def fail(self, message: str, *, retrying: bool, conclusion: CheckRunConclusion = "neutral") -> None:
        if self.check_run_id is None or self._done:
            return
        if retrying and self._created:
            await self.finish("neutral", "Superseded by a retry", f"{message[:2000]}\n\n{RETRIED_ELSEWHERE}")
        elif retrying:
            await mark_retrying(self.api, self.repo, self.check_run_id, message)
        else:
            await self.finish(conclusion, FAILED_TITLE, message[:2000])

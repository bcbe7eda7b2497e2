"""Make a retried job safe: never post a head's review twice, never leave a check run open behind.

A worker can die (kill -9, a lost database) between a GitHub write and our record of it. The next
attempt therefore looks at GitHub before acting: a review already posted on the head is not posted
(nor paid for) again, and a check run the dead attempt created is adopted instead of duplicated.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable

from app.errors import GitHubError
from app.github.models import RepoRef
from app.jobs.models import ReviewJob
from app.pipeline.checks import FAILED_TITLE, SUPERSEDED, close_check_runs, create_queued_check
from app.pipeline.ports import GitHubPort
from app.pipeline.summary_comment import find_summary
from app.product import CHECK_RUN_NAME
from app.publish.living import FAILED_NOTE, history_in, job_marker
from app.publish.markdown import REVIEW_FAILED_TITLE

log = logging.getLogger(__name__)
ALREADY_REVIEWED = (
    "This commit was already reviewed (by an earlier run or attempt); it is not reviewed twice."
)


async def posted_on_head(
    api: GitHubPort, repo: RepoRef, number: int, head_sha: str, *, bot_login: str
) -> bool:
    """Whether this head was already reviewed by us (a review that failed everywhere does not count).

    The living summary's run history says it best: a run with nothing new inline posts no review, and a
    failed run's review may still carry our own secret warnings. Without a summary, our reviews tell.
    """
    summary = find_summary(await api.list_issue_comment_texts(repo, number), bot_login)
    runs = [e for e in history_in(summary.body) if e.head == head_sha] if summary is not None else []
    if runs:
        return any(e.note != FAILED_NOTE for e in runs)
    texts = await api.list_review_texts(repo, number)
    return any(
        # Only this App's own reviews count: another account must not be able to suppress one.
        t.user_login.lower() == bot_login.lower()
        and t.commit_id == head_sha
        and not t.body.startswith(REVIEW_FAILED_TITLE)
        for t in texts
    )


async def review_of_job(
    api: GitHubPort, repo: RepoRef, number: int, job_id: str, *, bot_login: str
) -> int | None:
    """The review an earlier attempt of this job posted, if any (found by the job's hidden marker).

    GitHub is asked, not our records: the attempt may have died between posting and recording it.
    """
    marker = job_marker(job_id)
    if not marker:
        return None
    own = bot_login.lower()
    for text in await api.list_review_texts(repo, number):
        if text.user_login.lower() == own and text.id is not None and marker in text.body:
            return text.id
    return None


async def open_check_run(api: GitHubPort, repo: RepoRef, *, number: int, head_sha: str, run_url: str) -> int:
    """A queued check run for the head: one left open by a dead attempt, or a new one."""
    found = await api.list_check_runs(repo, head_sha, CHECK_RUN_NAME)
    orphans = sorted(cid for cid, status in found if status == "queued")
    if orphans:
        log.info("adopting queued check run %s left by an earlier attempt", orphans[0])
        return orphans[0]
    return await create_queued_check(api, repo, number=number, head_sha=head_sha, run_url=run_url)


async def close_orphans(api: GitHubPort, repo: RepoRef, head_sha: str, *, keep: list[int]) -> None:
    """Complete queued check runs on a head that no queued review holds (their creator died)."""
    found = await api.list_check_runs(repo, head_sha, CHECK_RUN_NAME)
    orphans = [cid for cid, status in found if status == "queued" and cid not in keep]
    if orphans:
        await close_check_runs(api, repo, orphans, title="Superseded", summary=SUPERSEDED)


async def close_posted(api: GitHubPort, job: ReviewJob) -> None:
    """The head was reviewed already: complete the job's check runs instead of reviewing again."""
    await close_check_runs(
        api,
        job.repo,
        job.all_check_run_ids(),
        title="Reviewed",
        summary=ALREADY_REVIEWED,
        conclusion="neutral",
    )


async def recorded_or_closed(
    api: GitHubPort, repo: RepoRef, check_run_id: int, record: Awaitable[bool], *, final: bool
) -> bool:
    """Await `record` (keeping a new check run with its job); if it raises, complete the check run.

    A check run no job knows would stay queued for good: the next attempt makes (or adopts) another,
    so this one is closed as superseded, or as failed when no attempt follows.
    """
    try:
        return await record
    except Exception:
        if final:
            summary = "mini-review could not record this check run with its review and gave up."
            await close_check_runs(
                api, repo, [check_run_id], title=FAILED_TITLE, summary=summary, conclusion="failure"
            )
        else:
            summary = "mini-review could not record this check run; the review reports in another one."
            await close_check_runs(api, repo, [check_run_id], title="Superseded by a retry", summary=summary)
        raise


async def close_unfinished(
    api: GitHubPort, repo: RepoRef, head_sha: str, check_run_ids: list[int], *, title: str, summary: str
) -> None:
    """Fail the given check runs, except those on `head_sha` that already completed (they say how)."""
    try:
        completed = {
            cid
            for cid, status in await api.list_check_runs(repo, head_sha, CHECK_RUN_NAME)
            if status == "completed"
        }
    except GitHubError as exc:
        log.warning("check runs of %s could not be listed: %s", head_sha, exc)
        completed = set()
    open_ids = [cid for cid in check_run_ids if cid not in completed]
    if open_ids:
        await close_check_runs(api, repo, open_ids, title=title, summary=summary, conclusion="failure")

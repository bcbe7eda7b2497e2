"""publish: carry a decision out. The review (only when it has inline comments), the living summary
comment, then the PR's memory."""

from __future__ import annotations

from dataclasses import dataclass

from app.github.models import PullRequestInfo, RepoRef
from app.pipeline.decide import Decision
from app.pipeline.files import to_file_diff
from app.pipeline.ports import GitHubPort, RunStore
from app.pipeline.posting import Comment, Revalidate, comment_fits, post_review
from app.pipeline.recovery import review_of_job
from app.pipeline.summary_comment import upsert_summary


@dataclass(frozen=True, slots=True)
class Posted:
    review_id: int | None  # None: nothing new inline, so no review was posted
    moved: int  # inline comments GitHub refused, moved into the review body
    summary_comment_id: int
    earlier: bool = False  # the review is the one an earlier attempt of this job posted


def revalidator(api: GitHubPort, repo: RepoRef, number: int) -> Revalidate:
    """Check comments against a freshly fetched diff (used when GitHub answers 422)."""

    async def revalidate(comments: list[Comment]) -> list[bool]:
        files = {f.path: f for f in map(to_file_diff, await api.list_pull_files(repo, number))}
        return [comment_fits(files, c) for c in comments]

    return revalidate


async def post(
    api: GitHubPort,
    repo: RepoRef,
    pr: PullRequestInfo,
    decision: Decision,
    *,
    bot_login: str,
    retry_of: str = "",
) -> Posted:
    """Post ONE review when there is something new inline, then rewrite the living summary comment.

    `retry_of` is the job's planned run id when an earlier attempt of the job may have posted already:
    its review then stands, and no second one is posted for the job.
    """
    earlier = None
    if decision.review_body is not None and retry_of:
        earlier = await review_of_job(api, repo, pr.number, retry_of, bot_login=bot_login)
    review_id, moved = earlier, 0
    if decision.review_body is not None and earlier is None:
        review_id, moved = await post_review(
            api,
            repo,
            pr.number,
            commit_id=pr.head_sha,
            body=decision.review_body,
            comments=decision.comments,
            revalidate=revalidator(api, repo, pr.number),
        )
    summary_id = await upsert_summary(
        api, repo, pr.number, decision.summary, decision.entry, bot_login=bot_login
    )
    return Posted(review_id, moved, summary_id, earlier=earlier is not None)


async def remember(
    store: RunStore, repo: RepoRef, pr: PullRequestInfo, run_id: str, decision: Decision
) -> None:
    """Record what this review showed, and move the incremental baseline when the review was complete."""
    await store.remember_fingerprints(repo.full_name, pr.number, run_id, decision.remember)
    if decision.move_baseline:
        await store.set_reviewed_head(repo.full_name, pr.number, pr.head_sha)

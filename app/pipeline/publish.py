"""publish: carry a decision out. The review and its follow-up comments, then the PR's memory."""

from __future__ import annotations

from dataclasses import dataclass

from app.github.models import PullRequestInfo, RepoRef
from app.pipeline.decide import Decision
from app.pipeline.files import to_file_diff
from app.pipeline.ports import GitHubPort, RunStore
from app.pipeline.posting import Comment, Revalidate, comment_fits, post_review


@dataclass(frozen=True, slots=True)
class Posted:
    review_id: int
    moved: int  # inline comments GitHub refused, moved into the review body


def revalidator(api: GitHubPort, repo: RepoRef, number: int) -> Revalidate:
    """Check comments against a freshly fetched diff (used when GitHub answers 422)."""

    async def revalidate(comments: list[Comment]) -> list[bool]:
        files = {f.path: f for f in map(to_file_diff, await api.list_pull_files(repo, number))}
        return [comment_fits(files, c) for c in comments]

    return revalidate


async def post(api: GitHubPort, repo: RepoRef, pr: PullRequestInfo, decision: Decision) -> Posted:
    """Post ONE review (never dropped: refused comments move into its body), then any body overflow."""
    review_id, moved = await post_review(
        api,
        repo,
        pr.number,
        commit_id=pr.head_sha,
        body=decision.body_parts[0],
        comments=decision.comments,
        revalidate=revalidator(api, repo, pr.number),
    )
    for extra in decision.body_parts[1:]:
        await api.create_issue_comment(repo, pr.number, extra)
    return Posted(review_id, moved)


async def remember(
    store: RunStore, repo: RepoRef, pr: PullRequestInfo, run_id: str, decision: Decision
) -> None:
    """Record what this review showed, and move the incremental baseline when the review was complete."""
    await store.remember_fingerprints(repo.full_name, pr.number, run_id, decision.remember)
    if decision.move_baseline:
        await store.set_reviewed_head(repo.full_name, pr.number, pr.head_sha)

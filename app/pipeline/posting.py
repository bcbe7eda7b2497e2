"""Post ONE review; if GitHub still answers 422, move inline comments into the body and post again."""

from __future__ import annotations

import logging

from app.errors import ReviewRejectedError
from app.github.models import RepoRef
from app.pipeline.ports import GitHubPort

log = logging.getLogger(__name__)
BODY_LIMIT = 65_536


def _as_text(comment: dict[str, object]) -> str:
    where = f"`{comment['path']}` line {comment['line']}"
    if comment.get("side") == "LEFT":
        where += " (old side)"
    return f"**{where}**\n\n{comment['body']}"


async def post_review(
    api: GitHubPort,
    repo: RepoRef,
    number: int,
    *,
    commit_id: str,
    body: str,
    comments: list[dict[str, object]],
) -> tuple[int, int]:
    """Return (review id, how many inline comments had to move into the body)."""
    try:
        review_id = await api.create_review(repo, number, commit_id=commit_id, body=body, comments=comments)
        return review_id, 0
    except ReviewRejectedError as exc:
        if not comments:
            raise
        # GitHub does not say which comment it refused; moving them all keeps every finding visible.
        log.warning(
            "review on %s#%s rejected (%s): posting comments in the body", repo.full_name, number, exc
        )
    moved = "\n\n---\n\n".join(_as_text(c) for c in comments)
    note = "\n\n<details><summary>Comments GitHub refused inline</summary>\n\n"
    fallback = body + note + moved + "\n\n</details>"
    if len(fallback) > BODY_LIMIT:
        fallback = (
            fallback[: BODY_LIMIT - 200] + "\n\n…(truncated; see the run page for every finding)\n</details>"
        )
    review_id = await api.create_review(repo, number, commit_id=commit_id, body=fallback, comments=[])
    return review_id, len(comments)

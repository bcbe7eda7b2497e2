"""Post ONE review; if GitHub still answers 422, move the offending comments into the body and retry."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping

from app.diff.model import FileDiff, Side
from app.errors import ReviewRejectedError
from app.github.models import RepoRef
from app.observability.metrics import record_review_fallback
from app.pipeline.ports import GitHubPort

log = logging.getLogger(__name__)
BODY_LIMIT = 65_536

Comment = dict[str, object]
# Re-checks comments against a freshly fetched diff: True where GitHub should accept the comment.
Revalidate = Callable[[list[Comment]], Awaitable[list[bool]]]


def comment_fits(files: Mapping[str, FileDiff], comment: Comment) -> bool:
    """Check one review comment against GitHub's rules for the given diff."""
    file = files.get(str(comment.get("path")))
    if file is None or file.patch_missing or file.is_binary:
        return False
    spots = file.commentable()
    end = (Side(str(comment.get("side", "RIGHT"))), int(str(comment["line"])))
    if end not in spots:
        return False
    if comment.get("start_line") is None:
        return True
    start_line = int(str(comment["start_line"]))
    start = (Side(str(comment.get("start_side", end[0].value))), start_line)
    return start in spots and spots[start] == spots[end] and start_line < end[1]


def _as_text(comment: Comment) -> str:
    where = f"`{comment['path']}` line {comment['line']}"
    if comment.get("side") == "LEFT":
        where += " (old side)"
    return f"**{where}**\n\n{comment['body']}"


def _with_moved(body: str, moved: list[Comment]) -> str:
    text = "\n\n---\n\n".join(_as_text(c) for c in moved)
    note = "\n\n<details><summary>Comments GitHub refused inline</summary>\n\n"
    combined = body + note + text + "\n\n</details>"
    if len(combined) > BODY_LIMIT:
        tail = "\n\n…(truncated; the run page lists every finding)\n</details>"
        combined = combined[: BODY_LIMIT - len(tail)] + tail
    return combined


async def post_review(
    api: GitHubPort,
    repo: RepoRef,
    number: int,
    *,
    commit_id: str,
    body: str,
    comments: list[Comment],
    revalidate: Revalidate | None = None,
) -> tuple[int, int]:
    """Return (review id, how many inline comments had to move into the body). Never drops the review."""
    try:
        return await api.create_review(repo, number, commit_id=commit_id, body=body, comments=comments), 0
    except ReviewRejectedError as exc:
        if not comments:
            raise
        record_review_fallback()
        log.warning(
            "review on %s#%s rejected (%s): looking for the offending comments", repo.full_name, number, exc
        )
    if revalidate is not None:
        # The usual cause is a diff that changed under us: check each comment against a fresh copy.
        verdicts = await revalidate(comments)
        keep = [c for c, ok in zip(comments, verdicts, strict=True) if ok]
        moved = [c for c, ok in zip(comments, verdicts, strict=True) if not ok]
        if moved and keep:
            try:
                review_id = await api.create_review(
                    repo, number, commit_id=commit_id, body=_with_moved(body, moved), comments=keep
                )
                return review_id, len(moved)
            except ReviewRejectedError:
                log.warning("review on %s#%s still rejected: moving every comment", repo.full_name, number)
    # GitHub does not say which comment it refused; moving them all keeps every finding visible.
    review_id = await api.create_review(
        repo, number, commit_id=commit_id, body=_with_moved(body, comments), comments=[]
    )
    return review_id, len(comments)

"""Keep the PR's one living summary comment: edit it in place, or make it when there is none.

The comment is found again among the PR's conversation comments by its marker and by the App's own
bot account (a deleted one is simply not found, and a new one is made; another account's comment
with our marker is never taken for ours). When several exist (e.g. two processes
raced on a lost database), the oldest is kept up to date and the others are left alone.
"""

from __future__ import annotations

import logging

from app.errors import GitHubPermanentError
from app.github.models import PostedText, RepoRef
from app.pipeline.ports import GitHubPort
from app.publish.living import RunEntry, is_living_summary, render_living_summary
from app.publish.markdown import ReviewSummary

log = logging.getLogger(__name__)


def find_summary(texts: list[PostedText], bot_login: str) -> PostedText | None:
    """Return the PR's living summary comment among its conversation comments, if any."""
    own = bot_login.lower()

    def ours(text: PostedText) -> bool:
        return text.user_login.lower() == own if own else text.by_bot

    return next((t for t in texts if ours(t) and t.id is not None and is_living_summary(t.body)), None)


async def upsert_summary(
    api: GitHubPort,
    repo: RepoRef,
    number: int,
    summary: ReviewSummary,
    entry: RunEntry,
    *,
    bot_login: str,
) -> int:
    """Rewrite the living summary with this run (history carried over); return the comment's id."""
    previous = find_summary(await api.list_issue_comment_texts(repo, number), bot_login)
    body = render_living_summary(summary, entry, previous.body if previous is not None else "")
    if previous is not None and previous.id is not None:
        try:
            if await api.update_issue_comment(repo, previous.id, body):
                return previous.id
        except GitHubPermanentError as exc:
            if exc.status != 403:
                raise
            log.warning(
                "summary comment %s on %s#%s is not ours to edit", previous.id, repo.full_name, number
            )
    return await api.create_issue_comment(repo, number, body)

"""Who may make the bot answer, how much answering may cost, and how an answer is posted safely."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from app.commands.permissions import association_decision, permission_allows
from app.conversation.ports import ConversationGitHub
from app.conversation.store import ConversationStore
from app.errors import GitHubPermanentError
from app.github.models import RepoRef
from app.publish.markdown import MAX_BODY, fit
from app.review.redact import redact_text
from app.review.usage import Prices, Usage, cost_usd

ANSWER_MARKER = "<!-- mini-review:answer -->"
MAX_ANSWER_CHARS = 8_000  # answers are short by instruction; this bounds a runaway one


@dataclass(frozen=True, slots=True)
class AnswerLimits:
    """Budgets for thread answers and asks (shared with reviews: see README, "Budgets")."""

    model: str
    prices: Prices
    per_pr_per_hour: int = 10
    max_tokens_per_pr: int | None = None
    max_cost_per_pr: float | None = None
    max_cost_per_day: float | None = None
    max_completion_tokens: int = 2048

    def cost(self, usage: Usage) -> float:
        return cost_usd(usage, self.prices)


async def is_writer(api: ConversationGitHub, repo: RepoRef, login: str, association: str | None) -> bool:
    """Return True when `login` has write access (association first, then the permission API)."""
    if association is not None and association_decision(association) == "allow":
        return True
    try:
        return permission_allows(await api.get_permission(repo, login))
    except GitHubPermanentError:
        return False


async def refusal(
    store: ConversationStore,
    limits: AnswerLimits,
    *,
    repo: str,
    pr_number: int,
    now: dt.datetime,
    source_id: str,
) -> str | None:
    """Return why no further model answer may be given on this PR now, or None when one may.

    `source_id` is the comment being answered: its own claim is not counted against it.
    """
    recent = await store.answered_since(repo, pr_number, now - dt.timedelta(hours=1), excluding=source_id)
    if recent >= limits.per_pr_per_hour:
        return f"rate limit: {recent} answers on this pull request in the last hour"
    tokens, spent = await store.pr_spend(repo, pr_number)
    if limits.max_tokens_per_pr is not None and tokens >= limits.max_tokens_per_pr:
        return "the pull request's token budget is spent"
    if limits.max_cost_per_pr is not None and spent >= limits.max_cost_per_pr:
        return "the pull request's cost budget is spent"
    if limits.max_cost_per_day is not None:
        day_start = now.astimezone(dt.UTC).replace(hour=0, minute=0, second=0, microsecond=0)
        owner = repo.partition("/")[0]
        if await store.account_spend_since(owner, day_start) >= limits.max_cost_per_day:
            return "today's cost budget (MINI_MAX_COST_PER_DAY) is spent"
    return None


def redact(text: str) -> str:
    """Return `text` with secrets replaced (everything sent to the model goes through this)."""
    return redact_text(text)[0]


def render_answer(text: str, *, note: str = "") -> str:
    """Return model text as a postable body: no pings, HTML or open fences; our marker last."""
    clean, _ = redact_text(text[:MAX_ANSWER_CHARS])
    tail = f"\n\n{note}" if note else ""
    budget = MAX_BODY - len(tail) - len(ANSWER_MARKER) - 4
    body = fit(clean, budget) or "_(no answer)_"
    return f"{body}{tail}\n\n{ANSWER_MARKER}"

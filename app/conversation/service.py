"""Entry points the worker calls: answer a thread reply, answer `/mini ask`, list learnings, track fixes."""

from __future__ import annotations

from collections.abc import Sequence

from app.conversation.ask import Asker, Question
from app.conversation.fixed import FixReport, FixTracker
from app.conversation.learnings import Learning
from app.conversation.policy import AnswerLimits
from app.conversation.ports import ConversationGitHub, IssueCommenter, StructuredModel
from app.conversation.store import ConversationStore
from app.conversation.threads import Conversation, ThreadReply
from app.github.models import PullRequestInfo, RepoRef
from app.jobs.models import ThreadReplyJob
from app.publish.markdown import code_span, neutralise_line
from app.review.usage import Prices
from app.settings import Settings

IGNORE_HINT = (
    "`/mini ignore` works as a reply in one of my review threads: it stops that kind of finding "
    "from being raised again in this repository."
)
MAX_LISTED = 100


def answer_limits(settings: Settings) -> AnswerLimits:
    """Return the answer budgets from the server settings (shared with reviews)."""
    return AnswerLimits(
        model=settings.mini_model,
        prices=Prices(
            input_per_m=settings.price_input_per_m,
            cached_input_per_m=settings.price_cached_input_per_m,
            output_per_m=settings.price_output_per_m,
        ),
        per_pr_per_hour=settings.answers_per_pr_per_hour,
        max_tokens_per_pr=settings.max_input_tokens_per_pr,
        max_cost_per_pr=settings.max_cost_per_pr,
        max_cost_per_day=getattr(settings, "max_cost_per_day", None),
        max_completion_tokens=min(settings.max_completion_tokens, 4096),
    )


async def answer_thread_reply(
    job: ThreadReplyJob,
    *,
    api: ConversationGitHub,
    store: ConversationStore,
    model: StructuredModel,
    settings: Settings,
    bot_login: str = "",
) -> str:
    reply = ThreadReply(
        repo=job.repo,
        number=job.number,
        comment_id=job.comment_id,
        in_reply_to_id=job.in_reply_to_id,
        body=job.body,
        author=job.author,
        author_type=job.author_type,
        association=job.author_association,
        pr_author=job.pr_author,
    )
    conversation = Conversation(api, store, model, answer_limits(settings), bot_login=bot_login)
    return await conversation.answer_reply(reply)


async def answer_question(
    question: Question,
    pr: PullRequestInfo,
    files: Sequence[tuple[str, str]],
    *,
    api: IssueCommenter,
    store: ConversationStore,
    model: StructuredModel,
    settings: Settings,
) -> str:
    budget = settings.chunk_tokens * 4
    asker = Asker(api, store, model, answer_limits(settings), diff_budget_tokens=budget)
    return await asker.answer(question, pr, files)


async def track_fixes(
    repo: RepoRef,
    number: int,
    head_sha: str,
    *,
    api: ConversationGitHub,
    store: ConversationStore,
    model: StructuredModel,
    settings: Settings,
    bot_login: str = "",
) -> FixReport:
    tracker = FixTracker(api, store, model, answer_limits(settings), bot_login=bot_login)
    return await tracker.run(repo, number, head_sha)


def learnings_reply(repo: str, learnings: Sequence[Learning]) -> str:
    """Return the `/mini learnings` reply: one row per learning, newest last."""
    if not learnings:
        return (
            f"mini-review has learned nothing in {code_span(repo)} yet. A \U0001f44e on one of my comments, "
            "a reply such as \u201cfalse positive\u201d, or `/mini ignore` in my thread (from someone with "
            "write access) teaches me to skip that kind of finding."
        )
    rows = [
        f"| {item.id} | {item.category} | {_cell(item.title)} | {code_span(item.path_pattern)} "
        f"| {_cell(item.person)} | {item.source.value}: {_cell(item.words)} | {item.created_at:%Y-%m-%d} |"
        for item in list(learnings)[-MAX_LISTED:]
    ]
    more = len(learnings) - len(rows)
    head = [
        f"**What mini-review learned in {code_span(repo)}** ({len(learnings)}): findings like these "
        "are not raised again.",
        "",
        "| # | Category | Finding | Files | Who | Said | When |",
        "|---|---|---|---|---|---|---|",
    ]
    tail = [f"\n_{more} older learnings not shown._"] if more > 0 else []
    return "\n".join([*head, *rows, *tail])


def _cell(text: str) -> str:
    """Return untrusted text safe inside one table cell (no pings, HTML, emphasis or column breaks)."""
    return neutralise_line(text, 120).replace("|", "\\|")

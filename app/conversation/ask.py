"""`/mini ask <question>`: answer a question about a PR from its title, description and diff (as data).

The diff is what the review would send (the caller drops files the repository keeps away from the
model), redacted, and cut to a token budget: files that do not fit are named, not shown.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass

from app.conversation.policy import AnswerLimits, redact, refusal, render_answer
from app.conversation.ports import IssueCommenter, StructuredModel
from app.conversation.prompts import ASK_SCHEMA, ASK_SCHEMA_NAME, AskAnswer, ask_messages
from app.conversation.store import CallKind, ConversationStore
from app.diff.tokens import estimate_tokens
from app.errors import ModelError
from app.github.models import PullRequestInfo, RepoRef
from app.publish.markdown import code_span
from app.review.usage import Usage
from app.storage.db import utcnow

log = logging.getLogger(__name__)
MAX_NAMED = 50  # files over the budget that are still named


def budgeted_diff(files: Sequence[tuple[str, str]], budget_tokens: int) -> str:
    """Return `--- path` + patch blocks, in order, that fit `budget_tokens`; name the files that do not."""
    shown: list[str] = []
    left_out: list[str] = []
    used = 0
    for path, patch in files:
        block = f"--- {path}\n{patch.rstrip()}"
        cost = estimate_tokens(block)
        if used + cost > budget_tokens:
            left_out.append(path)
            continue
        shown.append(block)
        used += cost
    if left_out:
        named = ", ".join(left_out[:MAX_NAMED]) + (" ..." if len(left_out) > MAX_NAMED else "")
        shown.append(f"[{len(left_out)} file(s) not shown, over the budget: {named}]")
    return "\n".join(shown)


@dataclass(frozen=True, slots=True)
class Question:
    repo: RepoRef
    number: int
    comment_id: int
    author: str
    text: str


class Asker:
    def __init__(
        self,
        api: IssueCommenter,
        store: ConversationStore,
        model: StructuredModel,
        limits: AnswerLimits,
        *,
        diff_budget_tokens: int,
    ) -> None:
        self.api = api
        self.store = store
        self.model = model
        self.limits = limits
        self.diff_budget_tokens = diff_budget_tokens

    async def answer(self, question: Question, pr: PullRequestInfo, files: Sequence[tuple[str, str]]) -> str:
        """Answer once per asking comment; return what was done."""
        repo = question.repo
        claimed = await self.store.claim_call(
            repo=repo.full_name,
            pr_number=question.number,
            installation_id=repo.installation_id,
            kind=CallKind.ASK,
            source_id=str(question.comment_id),
        )
        if not claimed:
            return "ignored: already answered"
        why_not = await refusal(
            self.store,
            self.limits,
            repo=repo.full_name,
            pr_number=question.number,
            now=utcnow(),
            source_id=str(question.comment_id),
        )
        if why_not is not None:
            await self._finish(question, "refused", Usage())
            await self.api.create_issue_comment(
                repo, question.number, render_answer(f"I cannot answer right now: {why_not}.")
            )
            return f"refused: {why_not}"
        diff = budgeted_diff([(path, redact(patch)) for path, patch in files], self.diff_budget_tokens)
        messages = ask_messages(redact(question.text), redact(pr.title), redact(pr.body or ""), diff)
        try:
            answer, usage = await self.model.complete(
                messages,
                name=ASK_SCHEMA_NAME,
                schema=ASK_SCHEMA,
                output=AskAnswer,
                model=self.limits.model,
                max_completion_tokens=self.limits.max_completion_tokens,
            )
        except ModelError as exc:
            log.warning("ask on %s#%s failed: %s", repo.full_name, question.number, exc)
            await self._finish(question, "failed", Usage())
            await self.api.create_issue_comment(
                repo, question.number, render_answer("I could not answer: the model call failed.")
            )
            return "failed"
        quote = code_span(question.text[:200])
        body = render_answer(f"**Q:** {quote}\n\n{answer.answer}")
        await self.api.create_issue_comment(repo, question.number, body)
        await self._finish(question, "answered", usage)
        return "answered"

    async def _finish(self, question: Question, status: str, usage: Usage) -> None:
        await self.store.finish_call(
            repo=question.repo.full_name,
            kind=CallKind.ASK,
            source_id=str(question.comment_id),
            status=status,
            usage=usage,
            cost_usd=self.limits.cost(usage),
        )

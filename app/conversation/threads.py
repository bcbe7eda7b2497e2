"""Answer replies in our review threads, and turn writers' feedback (👎, "false positive") into learnings.

Only threads that START with one of our inline comments (a bot comment carrying our fingerprint
marker) are ours. Only the PR author and writers make the bot answer; bots never do. Each reply is
claimed once in the store before anything is posted, so a retried job or a redelivered webhook
never answers twice.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass

from app.commands.permissions import is_bot
from app.conversation.feedback import ReplyKind, classify_reply
from app.conversation.learnings import LearningSource, new_learning
from app.conversation.policy import AnswerLimits, is_writer, redact, refusal, render_answer
from app.conversation.ports import ConversationGitHub, StructuredModel
from app.conversation.prompts import (
    THREAD_SCHEMA,
    THREAD_SCHEMA_NAME,
    PostedFinding,
    ThreadAnswer,
    ThreadMessage,
    thread_messages,
)
from app.conversation.store import (
    CallKind,
    ConversationStore,
    FindingState,
    PostedFindingRecord,
    learning_source_key,
)
from app.errors import ModelError
from app.github.models import RepoRef, ReviewComment
from app.publish.fingerprint import markers_in
from app.publish.markdown import code_span, neutralise_line
from app.review.usage import Usage
from app.storage.db import utcnow

log = logging.getLogger(__name__)
WINDOW = 12  # lines of code shown above and below the commented line
MAX_SWEEP = 100  # our comments whose reactions are read per sweep
_HEADLINE = re.compile(r"^\*\*\S* ?(lint|test|risk) \u00b7 (nit|minor|major|critical): (.{1,400})\*\*$")
Clock = Callable[[], dt.datetime]


@dataclass(frozen=True, slots=True)
class ThreadReply:
    """A reply someone posted in a review thread (from the `pull_request_review_comment` webhook)."""

    repo: RepoRef
    number: int
    comment_id: int
    in_reply_to_id: int
    body: str
    author: str
    author_type: str | None
    association: str
    pr_author: str


def find_root(by_id: dict[int, ReviewComment], comment_id: int) -> ReviewComment | None:
    """Follow `in_reply_to_id` links up to the thread's first comment."""
    seen: set[int] = set()
    current = by_id.get(comment_id)
    while current is not None and current.in_reply_to_id is not None and current.id not in seen:
        seen.add(current.id)
        current = by_id.get(current.in_reply_to_id)
    return current


def our_fingerprint(comment: ReviewComment, bot_login: str = "") -> str | None:
    """Return the fingerprint of one of OUR inline comments (by our App's account, with our marker).

    With `bot_login` unknown (""), any bot comment counts; otherwise only this App's own account,
    because another App's bot could plant a marker to make us answer or resolve its threads.
    """
    ours = comment.user_login.lower() == bot_login.lower() if bot_login else comment.by_bot
    if not ours or comment.in_reply_to_id is not None:
        return None
    found = sorted(markers_in(comment.body))
    return found[0] if found else None


def thread_of(comments: list[ReviewComment], root_id: int) -> list[ReviewComment]:
    """Return the thread's comments, first comment first, in the order they were posted."""
    return sorted((c for c in comments if c.id == root_id or c.in_reply_to_id == root_id), key=lambda c: c.id)


def code_window(text: str, line: int | None, radius: int = WINDOW) -> str:
    """Return numbered lines around `line` (1-based), or the whole start of the file when unknown."""
    lines = text.split("\n")
    if line is None or line < 1:
        first, last = 1, min(len(lines), 2 * radius + 1)
    else:
        first, last = max(1, line - radius), min(len(lines), line + radius)
    return "\n".join(f"{n} {lines[n - 1]}" for n in range(first, last + 1))


def record_from_comment(fp: str, comment: ReviewComment) -> PostedFindingRecord:
    """Rebuild what we posted from the comment itself (when the database does not know it)."""
    first, _, rest = comment.body.partition("\n\n")
    match = _HEADLINE.match(first.strip())
    category, severity, title = match.groups() if match else ("risk", "minor", first.strip("* ")[:200])
    body = rest.split("<!-- mini-review:", 1)[0].strip()
    return PostedFindingRecord(
        fingerprint=fp,
        path=comment.path,
        line=comment.line if comment.line is not None else comment.original_line,
        category=category,
        severity=severity,
        title=title,
        body=body,
        quote="",
        commit_sha=comment.original_commit_id or comment.commit_id,
    )


def posted_finding(record: PostedFindingRecord, line: int | None) -> PostedFinding:
    return PostedFinding(
        path=record.path,
        line=line if line is not None else record.line,
        category=record.category,
        severity=record.severity,
        title=record.title,
        body=record.body,
        quote=record.quote,
    )


def acknowledgement(record: PostedFindingRecord, pattern: str) -> str:
    """Return the reply that confirms a learning was recorded."""
    return (
        f"Thanks, noted. I will not raise {record.category} findings like "
        f"\u201c{neutralise_line(record.title)}\u201d in files matching {code_span(pattern)} again "
        "in this repository. `/mini learnings` lists what I have learned."
    )


class Conversation:
    """Thread answers and feedback sweeps for one installation's API."""

    def __init__(
        self,
        api: ConversationGitHub,
        store: ConversationStore,
        model: StructuredModel,
        limits: AnswerLimits,
        *,
        bot_login: str = "",
        clock: Clock = utcnow,
    ) -> None:
        self.bot_login = bot_login
        self.api = api
        self.store = store
        self.model = model
        self.limits = limits
        self.clock = clock
        self._writers: dict[tuple[str, str], bool] = {}

    def _is_us(self, comment: ReviewComment) -> bool:
        return comment.user_login.lower() == self.bot_login.lower() if self.bot_login else comment.by_bot

    async def _writer(self, repo: RepoRef, login: str, association: str | None = None) -> bool:
        key = (repo.full_name, login)
        if key not in self._writers:
            self._writers[key] = await is_writer(self.api, repo, login, association)
        return self._writers[key]

    async def answer_reply(self, reply: ThreadReply) -> str:
        """Handle one reply in a review thread; return what was done (for logs and tests)."""
        repo = reply.repo
        if is_bot(reply.author, reply.author_type):
            return "ignored: a bot"
        comments = await self.api.list_review_comments(repo, reply.number)
        by_id = {c.id: c for c in comments}
        root = find_root(by_id, reply.in_reply_to_id)
        fp = our_fingerprint(root, self.bot_login) if root is not None else None
        if root is None or fp is None:
            return "ignored: not one of our threads"
        writer = await self._writer(repo, reply.author, reply.association)
        if not writer and reply.author != reply.pr_author:
            log.info(
                "reply %s on %s#%s by %s ignored: no write access",
                reply.comment_id,
                repo.full_name,
                reply.number,
                reply.author,
            )
            return "ignored: neither a writer nor the PR author"
        await self.sweep_reactions(repo, reply.number, comments)
        record = await self.store.finding(repo.full_name, reply.number, fp) or record_from_comment(fp, root)
        kind = classify_reply(reply.body)
        if kind is not ReplyKind.QUESTION and writer:
            return await self._learn(reply, root, record, kind)
        thread = [c for c in thread_of(comments, root.id) if c.id != reply.comment_id]
        return await self._answer(reply, root, record, thread)

    async def _claim(self, reply: ThreadReply) -> bool:
        return await self.store.claim_call(
            repo=reply.repo.full_name,
            pr_number=reply.number,
            installation_id=reply.repo.installation_id,
            kind=CallKind.THREAD,
            source_id=str(reply.comment_id),
        )

    async def _finish(self, reply: ThreadReply, status: str, usage: Usage | None = None) -> None:
        usage = usage or Usage()
        await self.store.finish_call(
            repo=reply.repo.full_name,
            kind=CallKind.THREAD,
            source_id=str(reply.comment_id),
            status=status,
            usage=usage,
            cost_usd=self.limits.cost(usage),
        )

    async def _learn(
        self, reply: ThreadReply, root: ReviewComment, record: PostedFindingRecord, kind: ReplyKind
    ) -> str:
        if not await self._claim(reply):
            return "ignored: already answered"
        source = LearningSource.IGNORE if kind is ReplyKind.IGNORE else LearningSource.REPLY
        learning = new_learning(
            repo=reply.repo.full_name,
            path=record.path,
            category=record.category,
            title=record.title,
            fp=record.fingerprint,
            person=reply.author,
            words=reply.body,
            source=source,
            now=self.clock(),
        )
        await self.store.add_learning(learning, learning_source_key(source, reply.comment_id))
        await self.store.set_state(
            reply.repo.full_name,
            reply.number,
            record.fingerprint,
            FindingState.DISMISSED,
            reason=f"{source.value} by {reply.author}",
        )
        body = render_answer(acknowledgement(record, learning.path_pattern))
        await self.api.reply_to_review_comment(reply.repo, reply.number, root.id, body)
        await self._finish(reply, "learned")
        return "learned"

    async def _answer(
        self,
        reply: ThreadReply,
        root: ReviewComment,
        record: PostedFindingRecord,
        thread: list[ReviewComment],
    ) -> str:
        repo = reply.repo
        if not await self._claim(reply):
            return "ignored: already answered"
        why_not = await refusal(
            self.store,
            self.limits,
            repo=repo.full_name,
            pr_number=reply.number,
            now=self.clock(),
            source_id=str(reply.comment_id),
        )
        if why_not is not None:
            log.info(
                "reply %s on %s#%s not answered: %s", reply.comment_id, repo.full_name, reply.number, why_not
            )
            await self._finish(reply, "refused")
            return f"refused: {why_not}"
        code = await self._code(repo, reply.number, root)
        messages = [ThreadMessage(c.user_login, self._is_us(c), redact(c.body)) for c in thread]
        messages.append(ThreadMessage(reply.author, False, redact(reply.body)))
        line = root.line if root.line is not None else root.original_line
        request = thread_messages(posted_finding(record, line), code, messages)
        try:
            answer, usage = await self.model.complete(
                request,
                name=THREAD_SCHEMA_NAME,
                schema=THREAD_SCHEMA,
                output=ThreadAnswer,
                model=self.limits.model,
                max_completion_tokens=self.limits.max_completion_tokens,
            )
        except ModelError as exc:
            log.warning("thread answer on %s#%s failed: %s", repo.full_name, reply.number, exc)
            await self._finish(reply, "failed")
            return "failed"
        note = ""
        if answer.finding_wrong:
            await self.store.set_state(
                repo.full_name,
                reply.number,
                record.fingerprint,
                FindingState.DISMISSED,
                reason="mini-review agreed in the thread that the finding was wrong",
            )
            note = "_I have marked this finding as dismissed._"
        await self.api.reply_to_review_comment(
            repo, reply.number, root.id, render_answer(answer.answer, note=note)
        )
        await self._finish(reply, "answered", usage)
        return "answered (finding dismissed)" if answer.finding_wrong else "answered"

    async def _code(self, repo: RepoRef, number: int, root: ReviewComment) -> str:
        """Return the redacted code around the comment at the PR's current head (the diff hunk if gone)."""
        pr = await self.api.get_pull(repo, number)
        data = await self.api.get_file(repo, root.path, pr.head_sha)
        if data is None:
            return redact(root.diff_hunk)
        line = root.line if root.line is not None else root.original_line
        return redact(code_window(data.decode("utf-8", errors="replace"), line))

    async def sweep_reactions(self, repo: RepoRef, number: int, comments: list[ReviewComment]) -> int:
        """Turn writers' 👎 on our open comments into learnings (reactions send no webhook); count them."""
        learned = 0
        ours = [(c, fp) for c in comments if (fp := our_fingerprint(c, self.bot_login)) is not None][
            :MAX_SWEEP
        ]
        for comment, fp in ours:
            record = await self.store.finding(repo.full_name, number, fp)
            if record is not None and record.state is not FindingState.OPEN:
                continue
            record = record or record_from_comment(fp, comment)
            for reaction in await self.api.list_review_comment_reactions(repo, comment.id):
                if reaction.content != "-1" or is_bot(reaction.user_login, reaction.user_type):
                    continue
                if not await self._writer(repo, reaction.user_login):
                    continue
                learned += await self._learn_from_reaction(repo, number, comment, record, reaction.user_login)
        return learned

    async def _learn_from_reaction(
        self, repo: RepoRef, number: int, comment: ReviewComment, record: PostedFindingRecord, person: str
    ) -> int:
        learning = new_learning(
            repo=repo.full_name,
            path=record.path,
            category=record.category,
            title=record.title,
            fp=record.fingerprint,
            person=person,
            words="\U0001f44e",
            source=LearningSource.REACTION,
            now=self.clock(),
        )
        key = learning_source_key(LearningSource.REACTION, comment.id, person)
        if await self.store.add_learning(learning, key) is None:
            return 0
        await self.store.set_state(
            repo.full_name,
            number,
            record.fingerprint,
            FindingState.DISMISSED,
            reason=f"\U0001f44e by {person}",
        )
        return 1

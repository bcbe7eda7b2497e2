"""What was fixed: after a review, ask (once per file, cheaply) whether new code addresses our open threads.

A thread is a candidate when it is ours, still open on GitHub and in our records, was posted on an
older commit, and the line it flagged is no longer where it was (the quoted code is not found near
its old place at the new head). For each file with candidates, ONE model call judges them all; an
addressed finding gets one "Addressed in `<sha>`" reply and its thread is resolved (GraphQL). A
thread someone resolved by hand is recorded as resolved and never raised again.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass, field

from app.conversation.policy import AnswerLimits, redact
from app.conversation.ports import ConversationGitHub, StructuredModel
from app.conversation.prompts import FIX_SCHEMA, FIX_SCHEMA_NAME, FixVerdicts, fix_messages
from app.conversation.store import CallKind, ConversationStore, FindingState, PostedFindingRecord
from app.conversation.threads import code_window, our_fingerprint, posted_finding
from app.errors import GitHubError, ModelError
from app.github.models import RepoRef, ReviewComment, ReviewThread
from app.review.usage import Usage

log = logging.getLogger(__name__)
NEAR = 40  # lines around the old position searched for the flagged code
MAX_FILES_CHECKED = 20  # model calls per run at most


@dataclass
class FixReport:
    """What one run found out about its earlier threads (shown on the run page)."""

    checked: int = 0
    addressed: list[str] = field(default_factory=list)  # fingerprints
    resolved_by_people: int = 0
    usage: Usage = field(default_factory=Usage)
    cost_usd: float = 0.0


@dataclass(frozen=True, slots=True)
class _Candidate:
    comment: ReviewComment
    record: PostedFindingRecord
    thread: ReviewThread


def _collapse(text: str) -> str:
    return " ".join(text.split())


def code_moved_on(text: str | None, record: PostedFindingRecord) -> bool:
    """Return True when the flagged code is gone from near where it was.

    A file the contents API does not serve (`None`: deleted, too large, a submodule) is left alone:
    nothing shows that the change addressed the finding.
    """
    if text is None:
        return False
    quote = _collapse(record.quote)
    if not quote:
        return False  # nothing to compare with: leave the thread alone
    lines = text.split("\n")
    centre = (record.line or 1) - 1
    near = lines[max(0, centre - NEAR) : centre + NEAR + 1]
    return all(_collapse(line) != quote for line in near)


def addressed_reply(sha: str) -> str:
    return f"Addressed in `{sha}`."


class FixTracker:
    def __init__(
        self,
        api: ConversationGitHub,
        store: ConversationStore,
        model: StructuredModel,
        limits: AnswerLimits,
        *,
        bot_login: str = "",
    ) -> None:
        self.bot_login = bot_login
        self.api = api
        self.store = store
        self.model = model
        self.limits = limits

    async def run(self, repo: RepoRef, number: int, head_sha: str) -> FixReport:
        """Check the PR's open threads against `head_sha`; never raises for GitHub or model trouble."""
        report = FixReport()
        try:
            candidates = await self._candidates(repo, number, head_sha, report)
            for path, items in list(candidates.items())[:MAX_FILES_CHECKED]:
                await self._check_file(repo, number, head_sha, path, items, report)
        except (GitHubError, ModelError) as exc:
            log.warning("fix tracking on %s#%s stopped: %s", repo.full_name, number, exc)
        return report

    async def _candidates(
        self, repo: RepoRef, number: int, head_sha: str, report: FixReport
    ) -> dict[str, list[_Candidate]]:
        records = {
            r.fingerprint: r for r in await self.store.findings(repo.full_name, number, FindingState.OPEN)
        }
        if not records:
            return {}
        threads = {t.root_comment_id: t for t in await self.api.list_review_threads(repo, number)}
        found: dict[str, list[_Candidate]] = defaultdict(list)
        for comment in await self.api.list_review_comments(repo, number):
            fp = our_fingerprint(comment, self.bot_login)
            record = records.get(fp) if fp is not None else None
            thread = threads.get(comment.id)
            if record is None or thread is None:
                continue
            if thread.is_resolved:
                if await self.store.set_state(
                    repo.full_name,
                    number,
                    record.fingerprint,
                    FindingState.RESOLVED,
                    reason="resolved on GitHub",
                ):
                    report.resolved_by_people += 1
            elif record.commit_sha != head_sha:
                found[record.path].append(_Candidate(comment, record, thread))
        return found

    async def _check_file(
        self, repo: RepoRef, number: int, head_sha: str, path: str, items: list[_Candidate], report: FixReport
    ) -> None:
        data = await self.api.get_file(repo, path, head_sha)
        text = data.decode("utf-8", errors="replace") if data is not None else None
        changed = [c for c in items if code_moved_on(text, c.record)]
        if not changed:
            return
        claimed = await self.store.claim_call(
            repo=repo.full_name,
            pr_number=number,
            installation_id=repo.installation_id,
            kind=CallKind.FIX,
            source_id=f"{head_sha}:{path}"[:128],
        )
        if not claimed:
            return  # this head's file was checked already
        report.checked += len(changed)
        threads = [
            (i, posted_finding(c.record, None), redact(code_window(text or "", c.record.line)))
            for i, c in enumerate(changed, start=1)
        ]
        verdicts, usage = await self.model.complete(
            fix_messages(path, threads),
            name=FIX_SCHEMA_NAME,
            schema=FIX_SCHEMA,
            output=FixVerdicts,
            model=self.limits.model,
            max_completion_tokens=self.limits.max_completion_tokens,
        )
        cost = self.limits.cost(usage)
        report.usage += usage
        report.cost_usd += cost
        await self.store.finish_call(
            repo=repo.full_name,
            kind=CallKind.FIX,
            source_id=f"{head_sha}:{path}"[:128],
            status="answered",
            usage=usage,
            cost_usd=cost,
        )
        addressed = {v.thread for v in verdicts.verdicts if v.addressed}
        for i, candidate in enumerate(changed, start=1):
            if i in addressed:
                await self._close(repo, number, head_sha, candidate, report)

    async def _close(
        self, repo: RepoRef, number: int, head_sha: str, candidate: _Candidate, report: FixReport
    ) -> None:
        fp = candidate.record.fingerprint
        # The state flips once: only the run that flips it replies, so the reply is never repeated.
        if not await self.store.set_state(
            repo.full_name,
            number,
            fp,
            FindingState.ADDRESSED,
            reason="the code changed",
            addressed_sha=head_sha,
        ):
            return
        report.addressed.append(fp)
        await self.api.reply_to_review_comment(repo, number, candidate.comment.id, addressed_reply(head_sha))
        await self.api.resolve_review_thread(repo, candidate.thread.id)

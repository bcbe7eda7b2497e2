"""What a review run asks of conversation: memory before the model, records after posting, fix tracking.

Kept apart from the pipeline's stages so the review only makes three calls: `remember` (read 👎
reactions, the repository's learnings and the PR's closed findings), `record_posted` (what was posted
inline, for later answers and fix checks) and `track_fixes` (after publishing).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field

from app.conversation.fixed import FixReport, FixTracker
from app.conversation.learnings import Learning, guidance
from app.conversation.ports import ConversationGitHub, StructuredModel
from app.conversation.service import answer_limits
from app.conversation.store import ConversationStore, PostedFindingRecord
from app.conversation.suppress import CLOSED_STATES, Suppressed, suppress, suppressed_rows
from app.conversation.threads import Conversation
from app.errors import GitHubError
from app.github.models import RepoRef
from app.publish.placement import PlacedComment
from app.review.findings import Finding
from app.settings import Settings

log = logging.getLogger(__name__)


@dataclass
class ReviewMemory:
    """What earlier feedback says about this review: learnings and the PR's closed findings."""

    learnings: list[Learning] = field(default_factory=list)
    closed: list[PostedFindingRecord] = field(default_factory=list)
    reactions_learned: int = 0
    suppressed: list[Suppressed] = field(default_factory=list)

    def instructions(self, configured: str) -> str:
        """Return the repository's instructions with its learnings appended (both are data to the model)."""
        extra = guidance(self.learnings)
        return "\n\n".join(part for part in (configured.strip(), extra) if part)

    def filter(self, findings: Sequence[Finding]) -> list[Finding]:
        """Drop findings a learning or a closed thread silences; remember them for the run page."""
        kept, self.suppressed = suppress(findings, self.learnings, self.closed)
        return kept

    def rows(self) -> list[dict[str, object]]:
        return suppressed_rows(self.suppressed)


async def remember(
    api: ConversationGitHub,
    store: ConversationStore,
    model: StructuredModel,
    settings: Settings,
    repo: RepoRef,
    number: int,
    *,
    bot_login: str = "",
) -> ReviewMemory:
    """Read new 👎 reactions into learnings, then load the learnings and the PR's closed findings."""
    memory = ReviewMemory()
    try:
        comments = await api.list_review_comments(repo, number)
        conversation = Conversation(api, store, model, answer_limits(settings), bot_login=bot_login)
        memory.reactions_learned = await conversation.sweep_reactions(repo, number, comments)
    except GitHubError as exc:
        log.warning("could not read reactions on %s#%s: %s", repo.full_name, number, exc)
    memory.learnings = await store.list_learnings(repo.full_name)
    memory.closed = [f for f in await store.findings(repo.full_name, number) if f.state in CLOSED_STATES]
    return memory


async def record_posted(
    store: ConversationStore,
    repo: RepoRef,
    number: int,
    run_id: str,
    head_sha: str,
    posted: Sequence[tuple[PlacedComment, str]],
) -> None:
    """Remember each inline comment just posted as an open finding."""
    records = [
        PostedFindingRecord(
            fingerprint=fp,
            path=placed.path,
            line=placed.line,
            category=placed.finding.category.value,
            severity=placed.finding.severity.value,
            title=placed.finding.title,
            body=placed.finding.body[:4000],
            quote=placed.finding.quote,
            commit_sha=head_sha,
        )
        for placed, fp in posted
    ]
    await store.record_posted(repo.full_name, number, run_id, records)


async def track_fixes(
    api: ConversationGitHub,
    store: ConversationStore,
    model: StructuredModel,
    settings: Settings,
    repo: RepoRef,
    number: int,
    head_sha: str,
    *,
    bot_login: str = "",
) -> FixReport:
    """Reply "Addressed in `<sha>`" and resolve the threads the new head fixed (never raises)."""
    tracker = FixTracker(api, store, model, answer_limits(settings), bot_login=bot_login)
    report = await tracker.run(repo, number, head_sha)
    if report.checked:
        log.info(
            "fix tracking on %s#%s at %s: %d checked, %d addressed",
            repo.full_name,
            number,
            head_sha[:12],
            report.checked,
            len(report.addressed),
        )
    return report

"""Never the same comment twice on a PR: fingerprints from the database AND hidden markers on GitHub."""

from __future__ import annotations

from dataclasses import dataclass, field

from app.diff.model import FileDiff
from app.github.models import RepoRef
from app.pipeline.ports import FingerprintStore, GitHubPort
from app.publish.fingerprint import finding_code, fingerprint, legacy_fingerprint, markers_in
from app.publish.placement import FileNote, PlacedComment, Placement, PrNote
from app.review.findings import Finding


@dataclass
class Deduplicator:
    """Known fingerprints of a PR (loaded once, with I/O); the checks against them are pure."""

    known: set[str]
    duplicates: int = 0
    new_note_prints: list[tuple[str, str]] = field(default_factory=list)

    @classmethod
    async def load(
        cls, api: GitHubPort, store: FingerprintStore, repo: RepoRef, number: int, *, bot_login: str
    ) -> Deduplicator:
        known = await store.posted_fingerprints(repo.full_name, number)
        # The markers survive a lost database: read them back from what THIS App posted (inline
        # comments, review summaries and the follow-up comments of split summaries). Any other
        # account, another App's bot included, could plant markers to silence a finding.
        own = bot_login.lower()
        texts = [(c.body, c.user_login) for c in await api.list_review_comments(repo, number)]
        texts += [(t.body, t.user_login) for t in await api.list_review_texts(repo, number)]
        texts += [(t.body, t.user_login) for t in await api.list_issue_comment_texts(repo, number)]
        for body, login in texts:
            if own and login.lower() == own:
                known |= markers_in(body)
        return cls(known=known)

    def fresh_inline(
        self, placement: Placement, files: dict[str, FileDiff]
    ) -> list[tuple[PlacedComment, str]]:
        fresh: list[tuple[PlacedComment, str]] = []
        for placed in placement.inline:
            code = finding_code(placed, files.get(placed.path))
            fp = fingerprint(placed.path, placed.finding.category.value, code)
            legacy = legacy_fingerprint(
                placed.path, placed.finding.category.value, code, placed.finding.title
            )
            if fp in self.known or legacy in self.known:
                self.duplicates += 1
                continue
            self.known.add(fp)
            fresh.append((placed, fp))
        return fresh

    def _note_is_new(self, finding: Finding) -> bool:
        # A distinct category label keeps a summary note from blocking a later inline comment.
        fp = fingerprint(finding.path, f"note-{finding.category.value}", finding.quote)
        if fp in self.known:
            self.duplicates += 1
            return False
        self.known.add(fp)
        self.new_note_prints.append((fp, finding.path))
        return True

    def fresh_notes(
        self, placement: Placement, summarised: list[Finding]
    ) -> tuple[list[FileNote], list[PrNote]]:
        """Summary notes not shown in an earlier review of this PR; summarised findings become file notes."""
        notes = list(placement.file_notes) + [
            FileNote(finding=f, path=f.path, reason="below the inline threshold or over the inline cap")
            for f in summarised
        ]
        file_notes = [n for n in notes if self._note_is_new(n.finding)]
        pr_notes = [n for n in placement.pr_notes if self._note_is_new(n.finding)]
        return file_notes, pr_notes

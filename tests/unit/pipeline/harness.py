"""One ReviewRun wired to the in-process port fakes: arrange a PR, run, read what GitHub and the store saw."""

from __future__ import annotations

from dataclasses import dataclass, field

from app.diff.model import Chunk
from app.errors import ModelError
from app.github.models import PullFile, PullRequestInfo
from app.jobs.models import ReviewJob
from app.pipeline.run import ReviewRun
from app.publish.living import is_living_summary
from app.review.findings import Finding
from app.settings import Settings
from app.storage.models import RunStatus
from tests.fakes.ports import BOT, Answer, FakePull, MemoryGitHub, MemoryStore, PostedReview, ScriptedReviewer
from tests.unit.pipeline.builders import CONFIG, REPO, job, pull, settings


@dataclass
class Bench:
    github: MemoryGitHub = field(default_factory=MemoryGitHub)
    store: MemoryStore = field(default_factory=MemoryStore)
    reviewer: ScriptedReviewer = field(default_factory=ScriptedReviewer)
    settings: Settings = field(default_factory=settings)

    def open_pr(self, files: list[PullFile], pr: PullRequestInfo | None = None) -> FakePull:
        return self.github.add_pull(pr or pull(), files)

    def config(self, text: str) -> None:
        """The repository's config file on the base branch."""
        self.github.set_file(CONFIG, "main", text)

    def answer(self, answers: dict[str, list[Finding] | Exception]) -> None:
        """Script the model per file path: findings, a ModelError (a failed chunk), or any other
        exception, which escapes the reviewer (no entry: no findings)."""

        def script(chunk: Chunk) -> Answer:
            answer = answers.get(chunk.path, [])
            if isinstance(answer, Exception) and not isinstance(answer, ModelError):
                raise answer
            return answer

        self.reviewer.script = script

    async def run(self, review: ReviewJob | None = None, *, final_attempt: bool = True) -> RunStatus:
        return await ReviewRun(
            review or job(),
            api=self.github,
            store=self.store,
            reviewer=self.reviewer,
            settings=self.settings,
            final_attempt=final_attempt,
            bot_login=BOT,
        ).execute()

    def reviews(self, number: int = 7) -> list[PostedReview]:
        return self.github.pulls[number].reviews

    def only_review(self, number: int = 7) -> PostedReview:
        reviews = self.reviews(number)
        assert len(reviews) == 1, f"expected one review, got {len(reviews)}"
        return reviews[0]

    def summary(self, number: int = 7) -> str:
        """The PR's living summary comment (exactly one after a run)."""
        found = [c.body for c in self.github.pulls[number].issue_comments if is_living_summary(c.body)]
        assert len(found) == 1, f"expected one summary comment, got {len(found)}"
        return found[0]

    def reviewed_paths(self) -> list[str]:
        return sorted({chunk.path for chunk, _, _ in self.reviewer.calls})

    def baseline(self, number: int = 7) -> str | None:
        state = self.store.states.get((REPO.full_name, number))
        return None if state is None else state.last_reviewed_head

"""A progress bar on stderr while chunks are reviewed (only when stderr is a terminal)."""

from __future__ import annotations

from typing import Any, TextIO

from app.review.llm import ModelAnswer, ModelClient
from app.review.prompts import Message

_WIDTH = 24


class ProgressBar:
    """Draw `[####------] 4/10 chunks` in place; silent when the stream is not a terminal."""

    def __init__(self, stream: TextIO, *, enabled: bool | None = None) -> None:
        self.stream = stream
        self.enabled = stream.isatty() if enabled is None else enabled
        self.total = 0
        self.done = 0

    def start(self, total: int) -> None:
        self.total = total
        self._draw()

    def tick(self) -> None:
        self.done += 1
        self._draw()

    def finish(self) -> None:
        if self.enabled and self.total:
            self.stream.write("\r\x1b[2K")
            self.stream.flush()

    def _draw(self) -> None:
        if not self.enabled or not self.total:
            return
        filled = _WIDTH * min(self.done, self.total) // self.total
        bar = "#" * filled + "-" * (_WIDTH - filled)
        self.stream.write(f"\rreviewing [{bar}] {self.done}/{self.total} chunks")
        self.stream.flush()


class CountingModelClient(ModelClient):
    """A ModelClient that calls `on_review_done` after each chunk's review, successful or not."""

    on_review_done: ProgressBar | None = None

    async def review(self, messages: list[Message], **kwargs: Any) -> ModelAnswer:
        try:
            return await super().review(messages, **kwargs)
        finally:
            if self.on_review_done is not None:
                self.on_review_done.tick()

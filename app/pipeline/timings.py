"""Stage timings of one run: `with timings.stage("model"):` records how long the block took."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager


class Timings:
    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._started = clock()
        self.stages: dict[str, float] = {}

    @contextmanager
    def stage(self, name: str) -> Iterator[None]:
        start = self._clock()
        try:
            yield
        finally:
            self.stages[name] = round(self._clock() - start, 4)

    def elapsed(self) -> float:
        return self._clock() - self._started

    def record(self) -> dict[str, float]:
        """Every stage so far plus the run's total, as the run page shows them."""
        return {**self.stages, "total": round(self.elapsed(), 4)}

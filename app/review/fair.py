"""Share the process's model-call slots fairly between the reviews running at the same time.

A plain semaphore serves waiters first come, first served: a review that queued 200 chunks makes
every review that starts after it wait for all 200. Here each waiter belongs to a *lane* (one per
review); when a slot frees up it goes to the waiting lane that holds the fewest slots, oldest
waiter first within a lane, and lanes that tie take turns. A lone review still gets every slot.

The lane is carried in a context variable set by the reviewer for the review's tasks, so the model
client needs no new parameter on every call. Hand-written: asyncio has no fair or weighted
semaphore, and a library for this small a policy would cost more than it saves.
"""

from __future__ import annotations

import asyncio
import itertools
from collections import deque
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from contextvars import ContextVar

__all__ = ["FairGate", "review_lane"]

review_lane: ContextVar[str] = ContextVar("review_lane", default="")


class FairGate:
    """At most `limit` holders at once; free slots go to the lane holding the fewest."""

    def __init__(self, limit: int) -> None:
        if limit < 1:
            raise ValueError("limit must be at least 1")
        self.limit = limit
        self._active = 0
        self._held: dict[str, int] = {}
        self._waiting: dict[str, deque[asyncio.Future[None]]] = {}
        self._turn = itertools.count()
        self._last_turn: dict[str, int] = {}

    @property
    def active(self) -> int:
        return self._active

    def held(self, lane: str) -> int:
        return self._held.get(lane, 0)

    @asynccontextmanager
    async def slot(self, lane: str | None = None) -> AsyncIterator[None]:
        """Hold one slot for the body; `lane` defaults to the current `review_lane`."""
        name = review_lane.get() if lane is None else lane
        await self._acquire(name)
        try:
            yield
        finally:
            self._release(name)

    async def _acquire(self, lane: str) -> None:
        if self._active < self.limit and not self._waiting:
            self._take(lane)
            return
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiting.setdefault(lane, deque()).append(future)
        try:
            await future
        except asyncio.CancelledError:
            if future.done() and not future.cancelled():
                self._release(lane)  # granted just as we were cancelled: hand the slot on
            else:
                self._forget(lane, future)
            raise

    def _take(self, lane: str) -> None:
        self._active += 1
        self._held[lane] = self._held.get(lane, 0) + 1
        self._last_turn[lane] = next(self._turn)

    def _release(self, lane: str) -> None:
        self._active -= 1
        left = self._held.get(lane, 0) - 1
        if left > 0:
            self._held[lane] = left
        else:
            self._held.pop(lane, None)
        self._grant()

    def _forget(self, lane: str, future: asyncio.Future[None]) -> None:
        queue = self._waiting.get(lane)
        if queue is not None and future in queue:
            queue.remove(future)
            if not queue:
                del self._waiting[lane]

    def _grant(self) -> None:
        while self._active < self.limit and self._waiting:
            lane = min(self._waiting, key=lambda name: (self.held(name), self._last_turn.get(name, -1)))
            queue = self._waiting[lane]
            future = queue.popleft()
            if not queue:
                del self._waiting[lane]
            self._take(lane)
            future.set_result(None)

"""Who may see which repository: public repositories to anyone, private ones to users GitHub lets read them.

Both answers come from GitHub and are cached for a few minutes (MINI_ACCESS_CACHE_SECONDS): a user's
repositories per session (from their token), a repository's visibility per process (from the App).
When GitHub cannot tell, the answer is "private": failing closed never shows what a user cannot read.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Generic, Protocol, TypeVar

from app.dashboard.sessions import Viewer
from app.github.oauth import UserRepo

log = logging.getLogger(__name__)
MAX_CACHED_SESSIONS = 10_000


class VisibilitySource(Protocol):
    async def is_public(self, full_name: str) -> bool: ...


ListRepos = Callable[[str], Awaitable[list[UserRepo]]]  # user token -> repositories


@dataclass(frozen=True)
class Access:
    """What one viewer may do with one repository."""

    readable: bool
    can_write: bool = False
    public: bool = False
    installation_id: int | None = None


NO_ACCESS = Access(readable=False)


V = TypeVar("V")


class _TTLCache(Generic[V]):
    def __init__(self, ttl: float, max_items: int) -> None:
        self.ttl = ttl
        self.max_items = max_items
        self._items: dict[str, tuple[float, V]] = {}

    def get(self, key: str) -> V | None:
        hit = self._items.get(key)
        if hit is None or hit[0] <= time.monotonic():
            return None
        return hit[1]

    def put(self, key: str, value: V) -> None:
        if len(self._items) >= self.max_items:
            now = time.monotonic()
            self._items = {k: v for k, v in self._items.items() if v[0] > now}
            if len(self._items) >= self.max_items:
                self._items.clear()
        self._items[key] = (time.monotonic() + self.ttl, value)

    def drop(self, key: str) -> None:
        self._items.pop(key, None)


class AccessPolicy:
    """Answer "may this viewer read / write this repository?" from cached GitHub facts."""

    def __init__(self, visibility: VisibilitySource, list_repos: ListRepos, *, ttl: float) -> None:
        self._visibility = visibility
        self._list_repos = list_repos
        self._grants: _TTLCache[dict[str, UserRepo]] = _TTLCache(ttl, MAX_CACHED_SESSIONS)
        self._public: _TTLCache[bool] = _TTLCache(ttl, MAX_CACHED_SESSIONS)

    async def grants(self, viewer: Viewer) -> dict[str, UserRepo]:
        """The viewer's repositories by lower-cased full name (empty for anonymous viewers)."""
        if not viewer.signed_in or viewer.token is None:
            return {}
        cached = self._grants.get(viewer.cache_key)
        if cached is not None:
            return cached
        repos = await self._list_repos(viewer.token)
        grants = {r.full_name.lower(): r for r in repos}
        self._grants.put(viewer.cache_key, grants)
        return grants

    def forget(self, viewer: Viewer) -> None:
        self._grants.drop(viewer.cache_key)

    async def is_public(self, full_name: str) -> bool:
        key = full_name.lower()
        cached = self._public.get(key)
        if cached is not None:
            return cached
        try:
            public = await self._visibility.is_public(full_name)
        except Exception:  # noqa: BLE001 - any failure to learn visibility means "private"
            log.warning("could not learn whether %s is public; treating it as private", full_name)
            return False
        self._public.put(key, public)
        return public

    async def access(self, viewer: Viewer, full_name: str) -> Access:
        grant = (await self.grants(viewer)).get(full_name.lower())
        if grant is not None:
            return Access(
                readable=True,
                can_write=grant.can_write,
                public=not grant.private,
                installation_id=grant.installation_id,
            )
        if await self.is_public(full_name):
            return Access(readable=True, public=True)
        return NO_ACCESS

"""FastAPI dependencies: what routes need, typed (`StoreDep`, `SettingsDep`, `IntakeDep`).

`app.main` puts the composition root's adapters on `app.state` once at start-up; these functions are
the only readers of it, so routes never touch `app.state` and tests can override any of them.
They are `async def` although they never wait: FastAPI runs a plain `def` dependency in a thread
pool, and three thread hops per webhook were a large share of its acknowledgement time.
"""

from __future__ import annotations

from typing import Annotated, Protocol, TypeVar

from fastapi import Depends, Request

from app.conversation.store import ConversationStore
from app.settings import Settings
from app.storage.models import Delivery
from app.storage.repository import Store

T = TypeVar("T")


def _state(request: Request, name: str, kind: type[T]) -> T:
    value = getattr(request.app.state, name, None)
    if not isinstance(value, kind):
        raise RuntimeError(f"app.state.{name} is not wired (expected {kind.__name__})")
    return value


async def get_settings(request: Request) -> Settings:
    return _state(request, "settings", Settings)


async def get_store(request: Request) -> Store:
    return _state(request, "store", Store)


async def get_conversation_store(request: Request) -> ConversationStore | None:
    """Learnings and finding outcomes (None when the app runs without a database, as in some tests)."""
    store = getattr(request.app.state, "store", None)
    return ConversationStore(store.engine) if isinstance(store, Store) else None


class Intake(Protocol):
    """Where the webhook route hands an accepted delivery: record it durably, then have it applied."""

    async def record(self, delivery: Delivery) -> bool: ...

    def applied_soon(self) -> None: ...


async def get_intake(request: Request) -> Intake:
    intake = getattr(request.app.state, "intake", None)
    if intake is None:
        raise RuntimeError("app.state.intake is not wired")
    return intake  # type: ignore[no-any-return]


class Readiness(Protocol):
    async def database_ok(self) -> bool: ...

    def worker_alive(self) -> bool: ...

    def intake_alive(self) -> bool: ...


async def get_readiness(request: Request) -> Readiness:
    readiness = getattr(request.app.state, "readiness", None)
    if readiness is None:
        raise RuntimeError("app.state.readiness is not wired")
    return readiness  # type: ignore[no-any-return]


SettingsDep = Annotated[Settings, Depends(get_settings)]
StoreDep = Annotated[Store, Depends(get_store)]
ConversationStoreDep = Annotated[ConversationStore | None, Depends(get_conversation_store)]
IntakeDep = Annotated[Intake, Depends(get_intake)]
ReadinessDep = Annotated[Readiness, Depends(get_readiness)]

"""The dashboard's reads and writes: sessions, shared secrets, repository switches, run history, progress."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from typing import Any

from pydantic import BaseModel
from sqlalchemy import delete, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.sql import Select

from app.storage.db import utcnow, write_transaction
from app.storage.tables import app_secrets, repo_settings, run_progress, runs, sessions


class SessionRow(BaseModel):
    id_hash: str
    user_id: int | None
    login: str | None
    token: str | None  # encrypted
    oauth_state: str | None
    next_path: str | None
    expires_at: dt.datetime


class ProgressRow(BaseModel):
    run_id: str
    pr_title: str | None = None
    installation_id: int | None = None
    stage: str | None = None
    chunks_done: int | None = None
    chunks_total: int | None = None
    reviewed_files: list[str] | None = None


class RunFilter(BaseModel):
    """Which runs of a repository a list shows."""

    status: str | None = None
    trigger: str | None = None
    pr_number: int | None = None


_STATS_COLUMNS = (
    "id", "repo", "pr_number", "trigger", "status", "mode", "started_at",
    "cost_usd", "findings", "skipped", "error",
)  # fmt: skip


class DashboardStore:
    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine

    # -- secrets -----------------------------------------------------------------------------
    async def secret(self, name: str, generate: Callable[[], str]) -> str:
        """Return the named secret, creating it once; concurrent first starts agree on one value."""
        async with self.engine.connect() as conn:
            found = (
                await conn.execute(select(app_secrets.c.value).where(app_secrets.c.name == name))
            ).scalar_one_or_none()
        if found is not None:
            return str(found)
        try:
            async with self.engine.begin() as conn:
                value = generate()
                await conn.execute(app_secrets.insert().values(name=name, value=value, created_at=utcnow()))
                return value
        except IntegrityError:
            return await self.secret(name, generate)  # another process created it first

    # -- sessions ----------------------------------------------------------------------------
    async def save_session(self, row: SessionRow) -> None:
        async with self.engine.begin() as conn:
            await conn.execute(sessions.insert().values(**row.model_dump(), created_at=utcnow()))

    async def get_session(self, id_hash: str) -> SessionRow | None:
        async with self.engine.connect() as conn:
            found = (
                (await conn.execute(select(sessions).where(sessions.c.id_hash == id_hash))).mappings().first()
            )
        if found is None or found["expires_at"] <= utcnow():
            return None
        return SessionRow.model_validate(dict(found))

    async def take_pending(self, id_hash: str) -> SessionRow | None:
        """Delete and return a pending sign-in (used once); signed-in sessions are left alone."""
        found = await self.get_session(id_hash)
        if found is None or found.oauth_state is None:
            return None
        async with self.engine.begin() as conn:
            result = await conn.execute(
                delete(sessions).where(sessions.c.id_hash == id_hash, sessions.c.oauth_state.is_not(None))
            )
        return found if result.rowcount == 1 else None

    async def delete_session(self, id_hash: str) -> None:
        async with self.engine.begin() as conn:
            await conn.execute(delete(sessions).where(sessions.c.id_hash == id_hash))

    async def prune_sessions(self) -> int:
        async with self.engine.begin() as conn:
            result = await conn.execute(delete(sessions).where(sessions.c.expires_at <= utcnow()))
            return int(result.rowcount)

    # -- repository switches -----------------------------------------------------------------
    async def repo_paused(self, repo: str) -> bool:
        async with self.engine.connect() as conn:
            found = (
                await conn.execute(select(repo_settings.c.paused).where(repo_settings.c.repo == repo))
            ).scalar_one_or_none()
        return bool(found)

    async def set_repo_paused(self, repo: str, paused: bool, by: str) -> None:
        values = {"paused": paused, "changed_by": by, "updated_at": utcnow()}
        async with write_transaction(self.engine) as conn:
            result = await conn.execute(
                update(repo_settings).where(repo_settings.c.repo == repo).values(**values)
            )
            if result.rowcount == 0:
                await conn.execute(repo_settings.insert().values(repo=repo, **values))

    # -- progress of runs --------------------------------------------------------------------
    async def report_progress(self, run_id: str, **values: Any) -> None:
        values["updated_at"] = utcnow()
        async with write_transaction(self.engine) as conn:
            result = await conn.execute(
                update(run_progress).where(run_progress.c.run_id == run_id).values(**values)
            )
            if result.rowcount == 0:
                await conn.execute(run_progress.insert().values(run_id=run_id, **values))

    async def progress(self, run_ids: Sequence[str]) -> dict[str, ProgressRow]:
        if not run_ids:
            return {}
        query = select(run_progress).where(run_progress.c.run_id.in_(list(run_ids)))
        async with self.engine.connect() as conn:
            rows = (await conn.execute(query)).mappings().all()
        return {r["run_id"]: ProgressRow.model_validate(dict(r)) for r in rows}

    # -- run history -------------------------------------------------------------------------
    async def installation_of(self, repo: str) -> int | None:
        """The installation the newest recorded run of a repository went through."""
        query = (
            select(run_progress.c.installation_id)
            .select_from(run_progress.join(runs, runs.c.id == run_progress.c.run_id))
            .where(runs.c.repo == repo, run_progress.c.installation_id.is_not(None))
            .order_by(runs.c.started_at.desc())
            .limit(1)
        )
        async with self.engine.connect() as conn:
            found = (await conn.execute(query)).scalar_one_or_none()
        return None if found is None else int(found)

    async def repo_names(self) -> list[str]:
        """Every repository that has runs."""
        async with self.engine.connect() as conn:
            rows = await conn.execute(select(runs.c.repo).distinct())
            return sorted(str(r[0]) for r in rows)

    async def canonical_repo(self, full_name: str) -> str | None:
        """The stored spelling of a repository name (GitHub names are case-insensitive)."""
        query = select(runs.c.repo).where(func.lower(runs.c.repo) == full_name.lower()).limit(1)
        async with self.engine.connect() as conn:
            found = (await conn.execute(query)).scalar_one_or_none()
        return None if found is None else str(found)

    async def runs_since(self, repos: Sequence[str], since: dt.datetime) -> list[dict[str, Any]]:
        """What stats and charts need of runs of these repositories started after `since`, oldest first."""
        if not repos:
            return []
        columns = [runs.c[name] for name in _STATS_COLUMNS]
        query = (
            select(*columns)
            .where(runs.c.repo.in_(list(repos)), runs.c.started_at >= since)
            .order_by(runs.c.started_at)
        )
        async with self.engine.connect() as conn:
            return [dict(r) for r in (await conn.execute(query)).mappings()]

    async def progress_since(self, repo: str, since: dt.datetime) -> dict[str, ProgressRow]:
        """Progress rows of a repository's runs started after `since` (one join, not an id list)."""
        query = (
            select(run_progress)
            .select_from(run_progress.join(runs, runs.c.id == run_progress.c.run_id))
            .where(runs.c.repo == repo, runs.c.started_at >= since)
        )
        async with self.engine.connect() as conn:
            rows = (await conn.execute(query)).mappings().all()
        return {r["run_id"]: ProgressRow.model_validate(dict(r)) for r in rows}

    async def last_activity(self, repos: Sequence[str]) -> dict[str, dt.datetime]:
        if not repos:
            return {}
        query = (
            select(runs.c.repo, func.max(runs.c.started_at))
            .where(runs.c.repo.in_(list(repos)))
            .group_by(runs.c.repo)
        )
        async with self.engine.connect() as conn:
            rows = (await conn.execute(query)).all()
        return {str(repo): _aware(when) for repo, when in rows if when is not None}

    def _filtered(self, repo: str, filters: RunFilter) -> Select[Any]:
        query = select(runs).where(runs.c.repo == repo)
        if filters.status:
            query = query.where(runs.c.status == filters.status)
        if filters.trigger:
            query = query.where(runs.c.trigger == filters.trigger)
        if filters.pr_number is not None:
            query = query.where(runs.c.pr_number == filters.pr_number)
        return query

    async def list_runs(
        self, repo: str, filters: RunFilter, *, offset: int, limit: int
    ) -> tuple[list[dict[str, Any]], int]:
        """One page of a repository's runs, newest first, and how many match in all."""
        query = self._filtered(repo, filters)
        page = query.order_by(runs.c.started_at.desc(), runs.c.id).offset(offset).limit(limit)
        count = select(func.count()).select_from(query.subquery())
        async with self.engine.connect() as conn:
            rows = [dict(r) for r in (await conn.execute(page)).mappings()]
            total = int((await conn.execute(count)).scalar_one())
        return rows, total

    async def run_choices(self, repo: str) -> tuple[list[str], list[str]]:
        """The statuses and triggers a repository's runs have, for the filter menus."""
        async with self.engine.connect() as conn:
            statuses = await conn.execute(select(runs.c.status).where(runs.c.repo == repo).distinct())
            triggers = await conn.execute(select(runs.c.trigger).where(runs.c.repo == repo).distinct())
            return sorted(str(s[0]) for s in statuses), sorted(str(t[0]) for t in triggers)

    async def pull_runs(self, repo: str, pr_number: int) -> list[dict[str, Any]]:
        query = (
            select(runs)
            .where(runs.c.repo == repo, runs.c.pr_number == pr_number)
            .order_by(runs.c.started_at, runs.c.id)
        )
        async with self.engine.connect() as conn:
            return [dict(r) for r in (await conn.execute(query)).mappings()]


def _aware(value: dt.datetime) -> dt.datetime:
    # Aggregates bypass the column type, so SQLite hands back naive UTC values.
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value)
    return value if value.tzinfo is not None else value.replace(tzinfo=dt.UTC)

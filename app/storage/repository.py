"""Reads and writes the app does, one method per question: the only module that writes SQL for them."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from app.jobs.models import CloseChecksJob
from app.jobs.queue import cancel_queued, enqueue
from app.storage.db import utcnow, write_transaction
from app.storage.tables import deliveries, installations, posted_findings, pull_states, runs
from app.webhooks.intents import Intent


class Store:
    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine

    # -- deliveries ------------------------------------------------------------------------------
    async def accept_delivery(self, delivery_id: str, event: str, action: str | None, intent: Intent) -> bool:
        """Persist the delivery and its work in ONE transaction; False when it was already seen."""
        try:
            async with write_transaction(self.engine) as conn:
                await conn.execute(
                    deliveries.insert().values(
                        delivery_id=delivery_id,
                        event=event,
                        action=action,
                        repo=intent.repo,
                        pr_number=intent.pr_number,
                        head_sha=intent.head_sha,
                        installation_id=intent.installation_id,
                        outcome=intent.outcome[:256],
                        received_at=utcnow(),
                    )
                )
                for work in intent.work:
                    await enqueue(
                        conn, kind=work.kind, key=work.key, payload=work.payload, delay_s=work.delay_s
                    )
                if intent.cancel_key is not None and intent.cancel_repo is not None:
                    cancelled = await cancel_queued(conn, intent.cancel_key)
                    ids = [i for job in cancelled for i in job.all_check_run_ids()]
                    if ids:
                        # Their check runs sit in "queued" on GitHub: a job completes them.
                        close = CloseChecksJob(repo=intent.cancel_repo, check_run_ids=ids)
                        await enqueue(
                            conn,
                            kind="close_checks",
                            key=intent.cancel_key,
                            payload=close.model_dump(mode="json"),
                        )
                if intent.installation is not None:
                    await self._record_installation(conn, intent)
        except IntegrityError:
            return False
        return True

    async def _record_installation(self, conn: Any, intent: Intent) -> None:
        event = intent.installation
        assert event is not None
        inst_id = event.installation.id
        current = (
            await conn.execute(select(installations.c.repositories).where(installations.c.id == inst_id))
        ).scalar_one_or_none()
        repos = set(current or [])
        if event.repositories is not None:
            repos = {r.full_name for r in event.repositories}
        repos |= {r.full_name for r in event.repositories_added or []}
        repos -= {r.full_name for r in event.repositories_removed or []}
        values = {
            "account": event.installation.account.login if event.installation.account else None,
            "repositories": sorted(repos),
            "active": event.action not in ("deleted", "suspend"),
            "updated_at": utcnow(),
        }
        if (
            current is None
            and (await conn.execute(select(installations.c.id).where(installations.c.id == inst_id))).first()
            is None
        ):
            await conn.execute(installations.insert().values(id=inst_id, **values))
        else:
            await conn.execute(update(installations).where(installations.c.id == inst_id).values(**values))

    async def prune_deliveries(self, older_than: dt.timedelta) -> int:
        """Forget deliveries older than GitHub's redelivery window needs (it offers the last 3 days)."""
        async with self.engine.begin() as conn:
            result = await conn.execute(
                delete(deliveries).where(deliveries.c.received_at < utcnow() - older_than)
            )
            return int(result.rowcount)

    async def delivery_count(self) -> int:
        from sqlalchemy import func

        async with self.engine.connect() as conn:
            return int((await conn.execute(select(func.count()).select_from(deliveries))).scalar_one())

    # -- runs ------------------------------------------------------------------------------------
    async def start_run(
        self, run_id: str, *, repo: str, pr_number: int, trigger: str, head_sha: str | None
    ) -> None:
        async with self.engine.begin() as conn:
            await conn.execute(
                runs.insert().values(
                    id=run_id,
                    repo=repo,
                    pr_number=pr_number,
                    trigger=trigger,
                    head_sha=head_sha,
                    status="running",
                    started_at=utcnow(),
                )
            )

    async def update_run(self, run_id: str, **values: Any) -> None:
        async with self.engine.begin() as conn:
            await conn.execute(update(runs).where(runs.c.id == run_id).values(**values))

    async def get_run(self, run_id: str) -> dict[str, Any] | None:
        async with self.engine.connect() as conn:
            row = (await conn.execute(select(runs).where(runs.c.id == run_id))).mappings().first()
            return dict(row) if row else None

    async def list_runs(
        self, *, limit: int = 50, repo: str | None = None, pr_number: int | None = None
    ) -> list[dict[str, Any]]:
        query = select(runs).order_by(runs.c.started_at.desc()).limit(limit)
        if repo:
            query = query.where(runs.c.repo == repo)
        if pr_number is not None:
            query = query.where(runs.c.pr_number == pr_number)
        async with self.engine.connect() as conn:
            return [dict(r) for r in (await conn.execute(query)).mappings()]

    # -- per-PR memory ---------------------------------------------------------------------------
    async def posted_fingerprints(self, repo: str, pr_number: int) -> set[str]:
        async with self.engine.connect() as conn:
            rows = await conn.execute(
                select(posted_findings.c.fingerprint).where(
                    posted_findings.c.repo == repo, posted_findings.c.pr_number == pr_number
                )
            )
            return {str(r[0]) for r in rows}

    async def remember_fingerprints(
        self, repo: str, pr_number: int, run_id: str, items: Iterable[tuple[str, str]]
    ) -> None:
        """Store (fingerprint, path) pairs of posted comments; already-known ones are skipped."""
        known = await self.posted_fingerprints(repo, pr_number)
        fresh = {fp: path for fp, path in items if fp not in known}
        if not fresh:
            return
        async with self.engine.begin() as conn:
            await conn.execute(
                posted_findings.insert(),
                [
                    {
                        "repo": repo,
                        "pr_number": pr_number,
                        "fingerprint": fp,
                        "run_id": run_id,
                        "path": path,
                        "created_at": utcnow(),
                    }
                    for fp, path in fresh.items()
                ],
            )

    async def pull_state(self, repo: str, pr_number: int) -> dict[str, Any]:
        async with self.engine.connect() as conn:
            row = (
                (
                    await conn.execute(
                        select(pull_states).where(
                            pull_states.c.repo == repo, pull_states.c.pr_number == pr_number
                        )
                    )
                )
                .mappings()
                .first()
            )
        return (
            dict(row)
            if row
            else {"repo": repo, "pr_number": pr_number, "last_reviewed_head": None, "paused": False}
        )

    async def set_pull_state(self, repo: str, pr_number: int, **values: Any) -> None:
        values["updated_at"] = utcnow()
        async with write_transaction(self.engine) as conn:
            result = await conn.execute(
                update(pull_states)
                .where(pull_states.c.repo == repo, pull_states.c.pr_number == pr_number)
                .values(**values)
            )
            if result.rowcount == 0:
                values.setdefault("paused", False)
                await conn.execute(pull_states.insert().values(repo=repo, pr_number=pr_number, **values))

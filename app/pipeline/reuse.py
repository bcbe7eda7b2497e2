"""The reviewer's kept call results (`app.review.reuse.CallResults`) over the store, for one review.

A review job keeps one planned run id across its attempts (`ReviewJob.run_id`); results are kept
under it and the head, so only a retry of the same job on the same head reuses them. A later push,
or a `/mini review` of the same head once that job is done, calls the model afresh.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass

from pydantic import ValidationError

from app.pipeline.ports import ChunkResultStore
from app.review.reuse import SavedCall
from app.storage.models import ChunkResultRow

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class StoredCallResults:
    """One review's kept results: `job_run_id` ties the attempts together, `run_id` is this one."""

    store: ChunkResultStore
    repo: str
    pr_number: int
    head_sha: str
    job_run_id: str
    run_id: str

    async def load(self) -> Mapping[str, SavedCall]:
        found: dict[str, SavedCall] = {}
        for key, data in (await self.store.chunk_results(self.job_run_id, self.head_sha)).items():
            try:
                found[key] = SavedCall.model_validate(data)
            except ValidationError:
                log.warning("ignoring a kept review call result of an older shape")
        if found:
            log.info("reusing %d review call result(s) kept by an earlier attempt", len(found))
        return found

    async def save(self, key: str, call: SavedCall) -> None:
        usage = call.usage + call.escalation_usage
        await self.store.save_chunk_result(
            ChunkResultRow(
                repo=self.repo,
                pr_number=self.pr_number,
                head_sha=self.head_sha,
                job_run_id=self.job_run_id,
                call_key=key,
                run_id=self.run_id,
                result=call.model_dump(mode="json"),
                prompt_tokens=usage.prompt_tokens,
                completion_tokens=usage.completion_tokens,
                model_calls=usage.calls,
                cost_usd=call.cost_usd,
            )
        )

"""Precision, recall and placement accuracy of the reviewer on hand-written seeded-bug PRs.

Run against any OpenAI-compatible endpoint:
    OPENAI_API_KEY=... OPENAI_BASE_URL=https://.../v1 [MINI_MODEL=gpt-5.4-mini] python bench/bench_seeded.py

Each case of `bench/seeded/cases.py` goes through the production path: files-API patches parsed,
planned, packed, reviewed by `review_chunks` (redaction, structured output, retries), then placed
by `place_findings` exactly as a review would place them. Scoring:
- a finding *hits* a planted bug when it names the bug's file and cites a line within
  `TOLERANCE` lines of it; precision = hits / findings, recall = bugs hit / bugs;
- placement accuracy = hits whose inline comment lands exactly on the bug's line / hits.
In CI this runs against the fake model only (tests/unit/test_bench_seeded.py) to prove the harness.
"""

from __future__ import annotations

import asyncio
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import openai  # noqa: E402

from app.diff.filters import FilterRules  # noqa: E402
from app.diff.model import FileDiff  # noqa: E402
from app.diff.parse import parse_file_patch  # noqa: E402
from app.diff.plan import plan_review  # noqa: E402
from app.diff.render import render_chunk  # noqa: E402
from app.publish.placement import place_findings  # noqa: E402
from app.review.findings import Finding  # noqa: E402
from app.review.llm import ModelClient  # noqa: E402
from app.review.prompts import PrContext  # noqa: E402
from app.review.reviewer import ReviewerConfig, review_chunks  # noqa: E402
from bench.seeded.cases import CASES, Bug, SeededCase  # noqa: E402

TOLERANCE = 2


@dataclass
class Scores:
    findings: int = 0
    hits: int = 0  # findings that hit a planted bug
    bugs: int = 0
    bugs_found: int = 0
    placed_exactly: int = 0
    failed_calls: int = 0
    per_case: list[tuple[str, int, int, int]] = field(default_factory=list)  # name, findings, hits, bugs

    @property
    def precision(self) -> float:
        return self.hits / self.findings if self.findings else 1.0

    @property
    def recall(self) -> float:
        return self.bugs_found / self.bugs if self.bugs else 1.0

    @property
    def placement(self) -> float:
        return self.placed_exactly / self.hits if self.hits else 1.0


def case_files(case: SeededCase) -> dict[str, FileDiff]:
    return {f.path: parse_file_patch(f.path, f.patch(), status=f.status) for f in case.files}


def _hit(finding: Finding, bug: Bug) -> bool:
    return finding.path == bug.path and finding.side == "new" and abs(finding.line - bug.line) <= TOLERANCE


async def score_case(case: SeededCase, client: ModelClient, config: ReviewerConfig, scores: Scores) -> None:
    files = case_files(case)
    plan = plan_review(list(files.values()), FilterRules())
    context = PrContext(title=case.title, body="", files=list(files))
    outcome = await review_chunks(plan.chunks, context, client, config, render=render_chunk)
    placement = place_findings(files, outcome.findings)
    placed_at = {id(p.finding): (p.path, p.line) for p in placement.inline}
    hits = 0
    found: set[int] = set()
    for finding in outcome.findings:
        matched = [i for i, bug in enumerate(case.bugs) if _hit(finding, bug)]
        if not matched:
            continue
        hits += 1
        found.update(matched)
        where = placed_at.get(id(finding))
        if where is not None and any(where == (case.bugs[i].path, case.bugs[i].line) for i in matched):
            scores.placed_exactly += 1
    scores.findings += len(outcome.findings)
    scores.hits += hits
    scores.bugs += len(case.bugs)
    scores.bugs_found += len(found)
    scores.failed_calls += len(outcome.failed)
    scores.per_case.append((case.name, len(outcome.findings), hits, len(case.bugs)))


async def evaluate(
    client: ModelClient, config: ReviewerConfig, cases: tuple[SeededCase, ...] = CASES
) -> Scores:
    """Review every case (concurrently, within the client's limit) and score the findings."""
    scores = Scores()
    await asyncio.gather(*(score_case(case, client, config, scores) for case in cases))
    scores.per_case.sort()
    return scores


def report(scores: Scores) -> str:
    lines = [f"{'case':28}{'findings':>9}{'hits':>6}{'bugs':>6}"]
    lines += [f"{name:28}{n:>9}{hits:>6}{bugs:>6}" for name, n, hits, bugs in scores.per_case]
    lines.append(
        f"precision {scores.precision:.2f} ({scores.hits}/{scores.findings})  "
        f"recall {scores.recall:.2f} ({scores.bugs_found}/{scores.bugs})  "
        f"placement accuracy {scores.placement:.2f} ({scores.placed_exactly}/{scores.hits})  "
        f"failed calls {scores.failed_calls}"
    )
    return "\n".join(lines)


async def _main() -> int:
    if not os.environ.get("OPENAI_API_KEY"):
        print("set OPENAI_API_KEY (and OPENAI_BASE_URL for a gateway) to measure a real model")
        return 1
    sdk = openai.AsyncOpenAI(base_url=os.environ.get("OPENAI_BASE_URL") or None)
    model = os.environ.get("MINI_MODEL", "gpt-5.4-mini")
    try:
        client = ModelClient(sdk, max_concurrency=4)
        scores = await evaluate(client, ReviewerConfig(model=model, pack_tokens=12_000))
    finally:
        await sdk.close()
    print(f"{len(CASES)} seeded-bug PRs, model {model}")
    print(report(scores))
    return 0


if __name__ == "__main__":
    raise SystemExit(asyncio.run(_main()))

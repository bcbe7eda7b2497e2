"""Prompt economics on the corpus, side by side: one call per chunk (before) vs packed calls (now).

Run: python bench/bench_prompts.py [--corpus PATH]   (default: ../shared/corpus beside the checkout)

For each corpus diff (one PR), the files are planned and chunked as in a review and turned into the
exact messages sent to the model; tokens are estimated offline (app.diff.tokens). Reported per mode:
- prompt tokens / raw diff tokens of the reviewed files (goal for packing: <= 1.5x);
- billed input cost with prompt caching / the raw diff's cost at the uncached price (goal <= 1.2x);
- model calls per PR.
Caching follows OpenAI's documented rule (https://platform.openai.com/docs/guides/prompt-caching):
a prompt prefix of >= 1,024 tokens seen before under the same `prompt_cache_key` is billed at the
cached price, in 128-token steps. Both modes are simulated with one key per repository (the corpus
order is the arrival order); without a key, a busy gateway may route calls to other machines and
cache less, which cannot be measured offline. Context (enclosing functions) is reported apart.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from app.diff.filters import FilterRules  # noqa: E402
from app.diff.pack import Pack, pack_chunks, render_pack  # noqa: E402
from app.diff.parse import DiffParseError, parse_unified_diff  # noqa: E402
from app.diff.plan import plan_review  # noqa: E402
from app.diff.tokens import estimate_tokens  # noqa: E402
from app.review.prompts import STABLE_PREFIX, PrContext, build_messages  # noqa: E402
from app.review.schema import FINDINGS_SCHEMA, FINDINGS_SCHEMA_NAME, json_schema_format  # noqa: E402
from app.review.usage import Prices  # noqa: E402

DEFAULT_CORPUS = Path(__file__).resolve().parents[1] / ".." / "shared" / "corpus"
CHUNK_BUDGET = 12_000  # MINI_CHUNK_TOKENS default
CACHE_MIN, CACHE_STEP = 1024, 128
SCHEMA_TEXT = json.dumps(json_schema_format(FINDINGS_SCHEMA_NAME, FINDINGS_SCHEMA))


@dataclass
class Totals:
    raw: int = 0
    prompt: int = 0
    cached: int = 0
    calls: int = 0
    prs: int = 0
    per_pr_calls: list[int] = field(default_factory=list)

    def cost_ratio(self, prices: Prices) -> float:
        billed = (self.prompt - self.cached) * prices.input_per_m + self.cached * prices.cached_input_per_m
        return billed / (self.raw * prices.input_per_m)


class PrefixCache:
    """Prompts seen per cache key; a new prompt's cached part is its longest prefix seen before."""

    def __init__(self) -> None:
        self.seen: dict[str, list[str]] = {}

    def cached_tokens(self, key: str, text: str) -> int:
        earlier = self.seen.setdefault(key, [])
        common = max((_common_prefix(text, other) for other in earlier), default=0)
        earlier.append(text)
        tokens = estimate_tokens(text[:common])
        return (tokens // CACHE_STEP) * CACHE_STEP if tokens >= CACHE_MIN else 0


def _common_prefix(a: str, b: str) -> int:
    limit = min(len(a), len(b))
    lo, hi = 0, limit
    while lo < hi:  # binary search on equal prefixes: fast for long shared prefixes
        mid = (lo + hi + 1) // 2
        if a[:mid] == b[:mid]:
            lo = mid
        else:
            hi = mid - 1
    return lo


def raw_tokens(data: bytes, paths: set[str]) -> int:
    """Tokens of the plain `git diff` text of the files that were reviewed."""
    return sum(
        estimate_tokens(block.decode("utf-8", "replace"))
        for block in data.split(b"\ndiff --git ")
        if any(f" b/{p}".encode() in block.split(b"\n", 1)[0] for p in paths)
    )


def run_mode(cases: list[tuple[dict[str, str], bytes]], packed: bool) -> Totals:
    totals = Totals()
    cache = PrefixCache()
    for case, data in cases:
        files = parse_unified_diff(data)
        plan = plan_review(files, FilterRules(), chunk_budget_tokens=CHUNK_BUDGET)
        if not plan.chunks:
            continue
        packs = pack_chunks(plan.chunks, CHUNK_BUDGET) if packed else [Pack([c]) for c in plan.chunks]
        context = PrContext(title=case.get("subject", ""), body="", files=[f.path for f in files])
        for pack in packs:
            messages = build_messages(render_pack(pack), context)
            text = SCHEMA_TEXT + "".join(m["content"] for m in messages)
            totals.prompt += estimate_tokens(SCHEMA_TEXT) + sum(
                estimate_tokens(m["content"]) for m in messages
            )
            totals.cached += cache.cached_tokens(case.get("repo", ""), text)
        totals.calls += len(packs)
        totals.per_pr_calls.append(len(packs))
        totals.raw += raw_tokens(data, {c.path for c in plan.chunks})
        totals.prs += 1
    return totals


def load_cases(corpus: Path) -> list[tuple[dict[str, str], bytes]]:
    diffs = corpus / "diffs"
    cases = []
    for case in json.loads((diffs / "INDEX.json").read_text("utf-8")):
        data = (diffs / case["file"]).read_bytes()
        try:
            parse_unified_diff(data)
        except DiffParseError:
            continue
        cases.append((case, data))
    return cases


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    args = parser.parse_args()
    if not (args.corpus / "diffs" / "INDEX.json").is_file():
        print("corpus not found at", args.corpus)
        return 1
    cases = load_cases(args.corpus)
    prices = Prices()
    before, after = run_mode(cases, packed=False), run_mode(cases, packed=True)
    print(
        f"{len(cases)} corpus PRs; stable prefix {estimate_tokens(STABLE_PREFIX)} + schema "
        f"{estimate_tokens(SCHEMA_TEXT)} tokens; chunk budget {CHUNK_BUDGET:,}"
    )
    print(f"{'':34}{'one call per chunk':>20}{'packed':>12}{'goal':>8}")
    rows = [
        ("raw diff tokens (reviewed files)", f"{before.raw:,}", f"{after.raw:,}", ""),
        ("prompt tokens", f"{before.prompt:,}", f"{after.prompt:,}", ""),
        (
            "prompt / raw diff",
            f"{before.prompt / before.raw:.2f}x",
            f"{after.prompt / after.raw:.2f}x",
            "<=1.5x",
        ),
        ("cached prompt tokens", f"{before.cached:,}", f"{after.cached:,}", ""),
        (
            "billed input cost / raw diff cost",
            f"{before.cost_ratio(prices):.2f}x",
            f"{after.cost_ratio(prices):.2f}x",
            "<=1.2x",
        ),
        ("model calls", f"{before.calls:,}", f"{after.calls:,}", ""),
        ("calls per PR (mean)", f"{before.calls / before.prs:.2f}", f"{after.calls / after.prs:.2f}", ""),
        ("calls per PR (max)", f"{max(before.per_pr_calls)}", f"{max(after.per_pr_calls)}", ""),
    ]
    for label, one, two, goal in rows:
        print(f"{label:34}{one:>20}{two:>12}{goal:>8}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

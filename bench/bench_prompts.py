"""Prompt economics on the corpus: prompt tokens vs raw diff tokens, and the cacheable shared prefix.

Run: python bench/bench_prompts.py
For each corpus diff, the files are planned and chunked as in a review, each chunk is turned into
the exact messages sent to the model, and tokens are estimated offline (app.diff.tokens). "Stable
prefix" is the system message, byte-identical for every chunk of every PR; "PR prefix" adds the PR
context, shared by all chunks of one PR (gateways cache any common prefix of >= 1,024 tokens).
"""

from __future__ import annotations

import json
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from app.diff.filters import FilterRules  # noqa: E402
from app.diff.parse import DiffParseError, parse_unified_diff  # noqa: E402
from app.diff.plan import plan_review  # noqa: E402
from app.diff.render import render_chunk  # noqa: E402
from app.diff.tokens import estimate_tokens  # noqa: E402
from app.review.prompts import STABLE_PREFIX, PrContext, build_messages  # noqa: E402
from app.review.schema import FINDINGS_FORMAT  # noqa: E402

DIFFS = Path(__file__).resolve().parents[1] / ".." / "shared" / "corpus" / "diffs"


def main() -> int:
    index = DIFFS / "INDEX.json"
    if not index.is_file():
        print("corpus not found at", DIFFS)
        return 1
    stable = estimate_tokens(STABLE_PREFIX)
    schema = estimate_tokens(json.dumps(FINDINGS_FORMAT))
    totals = {"raw": 0, "rendered": 0, "prompt": 0, "stable": 0, "pr_prefix": 0, "chunks": 0}
    per_chunk_share: list[float] = []
    for case in json.loads(index.read_text("utf-8")):
        data = (DIFFS / case["file"]).read_bytes()
        try:
            files = parse_unified_diff(data)
        except DiffParseError:
            continue
        plan = plan_review(files, FilterRules())
        reviewed = {c.path for c in plan.chunks}
        raw = sum(
            estimate_tokens(block.decode("utf-8", "replace"))
            for block in data.split(b"\ndiff --git ")
            if any(f" b/{p}".encode() in block.split(b"\n", 1)[0] for p in reviewed)
        )
        context = PrContext(title=case.get("subject", ""), body="", files=[f.path for f in files])
        for chunk in plan.chunks:
            messages = build_messages(render_chunk(chunk), context)
            prompt = sum(estimate_tokens(str(m["content"])) for m in messages) + schema
            user = str(messages[1]["content"])
            pr_part = user.split("<chunk ", 1)[0]
            totals["pr_prefix"] += stable + schema + estimate_tokens(pr_part)
            totals["stable"] += stable + schema
            totals["prompt"] += prompt
            totals["rendered"] += chunk.tokens
            totals["chunks"] += 1
            per_chunk_share.append((stable + schema) / prompt)
        totals["raw"] += raw
    print(f"chunks: {totals['chunks']} from {DIFFS.name}")
    print(
        f"stable system prefix: {stable} tokens (+{schema} for the json_schema response format, also stable)"
    )
    print(f"raw diff tokens of reviewed files: {totals['raw']:,}")
    print(
        f"rendered chunk tokens: {totals['rendered']:,}  (x{totals['rendered'] / totals['raw']:.3f} of raw)"
    )
    print(f"whole prompt tokens: {totals['prompt']:,}  (x{totals['prompt'] / totals['raw']:.3f} of raw)")
    print(
        f"shared stable prefix: {totals['stable'] / totals['prompt']:.1%} of all prompt tokens; "
        f"median per chunk {statistics.median(per_chunk_share):.1%}"
    )
    print(f"stable + per-PR prefix (cacheable within a PR): {totals['pr_prefix'] / totals['prompt']:.1%}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

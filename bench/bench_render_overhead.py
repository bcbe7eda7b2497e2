"""Measure prompt tokens of rendered chunks against the tokens of the raw diff they came from.

Run: python bench/bench_render_overhead.py
For every corpus diff: plan_review (default rules, no caps) decides which files are reviewed; the
raw `git diff` text of exactly those files (headers included, and hunks only) is compared with
the sum of the rendered chunks. Ratios > 1 mean the model-facing format costs more tokens.
If the optional `bpe_openai` package is importable, real o200k_base counts are shown as well.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from app.diff.filters import FilterRules, skip_reason  # noqa: E402
from app.diff.parse import DiffParseError, parse_unified_diff  # noqa: E402
from app.diff.plan import plan_review  # noqa: E402
from app.diff.render import render_chunk  # noqa: E402
from app.diff.tokens import estimate_tokens  # noqa: E402

DIFFS = Path(__file__).resolve().parents[1] / ".." / "shared" / "corpus" / "diffs"


def _real_counter() -> Callable[[str], int] | None:
    try:
        from bpe_openai import get_encoding  # type: ignore[import-not-found]
    except ImportError:
        return None
    encoding = get_encoding("o200k_base")
    return lambda text: sum(len(encoding.encode(text[i : i + 200_000])) for i in range(0, len(text), 200_000))


def _sections(text: str) -> list[str]:
    """Split whole-diff text into one raw section per `diff --git` entry."""
    starts = [0] if text.startswith("diff --git ") else []
    pos = text.find("\ndiff --git ")
    while pos >= 0:
        starts.append(pos + 1)
        pos = text.find("\ndiff --git ", pos + 1)
    return [text[a:b] for a, b in zip(starts, [*starts[1:], len(text)], strict=True)]


def _hunks_only(section: str) -> str:
    at = section.find("\n@@")
    return section[at + 1 :] if at >= 0 else ""


def main() -> None:
    index = DIFFS / "INDEX.json"
    if not index.is_file():
        print("shared/corpus not present; nothing to measure")
        return
    real = _real_counter()
    totals = {"raw": 0, "hunks": 0, "rendered": 0, "real_raw": 0, "real_rendered": 0}
    print(f"{'diff':<62} {'files':>5} {'raw':>8} {'hunks':>8} {'chunks':>8} {'ratio':>6}")
    for case in json.loads(index.read_text("utf-8")):
        data = (DIFFS / case["file"]).read_bytes()
        try:
            files = parse_unified_diff(data)
        except DiffParseError:
            print(f"{case['file']:<62} rejected (combined diff)")
            continue
        sections = _sections(data.decode("utf-8", errors="replace"))
        assert len(sections) == len(files), case["file"]
        rules = FilterRules()
        reviewed = [s for s, f in zip(sections, files, strict=True) if skip_reason(f, rules) is None]
        plan = plan_review(files, rules)
        raw_text = "".join(reviewed)
        rendered = "\n".join(render_chunk(chunk) for chunk in plan.chunks)
        raw = estimate_tokens(raw_text)
        hunks = sum(estimate_tokens(_hunks_only(s)) for s in reviewed)
        chunks = sum(chunk.tokens for chunk in plan.chunks)
        totals["raw"] += raw
        totals["hunks"] += hunks
        totals["rendered"] += chunks
        if real is not None:
            totals["real_raw"] += real(raw_text)
            totals["real_rendered"] += real(rendered)
        ratio = f"{chunks / raw:6.2f}" if raw else "     -"
        print(f"{case['file'][:62]:<62} {len(reviewed):>5} {raw:>8} {hunks:>8} {chunks:>8} {ratio}")
    print(
        f"\nTOTAL estimated tokens: raw diff of reviewed files {totals['raw']}, "
        f"hunks only {totals['hunks']}, rendered chunks {totals['rendered']}"
    )
    print(f"rendered / raw diff   = {totals['rendered'] / totals['raw']:.3f}")
    print(f"rendered / hunks only = {totals['rendered'] / totals['hunks']:.3f}")
    if real is not None:
        print(
            f"real o200k_base: raw {totals['real_raw']}, rendered {totals['real_rendered']}, "
            f"ratio {totals['real_rendered'] / totals['real_raw']:.3f}; "
            f"estimate/real on rendered = {totals['rendered'] / totals['real_rendered']:.3f}"
        )


if __name__ == "__main__":
    main()

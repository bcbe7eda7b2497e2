"""Time what learning adds to a review: suppression of findings by N learnings, and reply classification.

Run: python bench/bench_learnings.py
Baseline: the same findings with no learnings (what a review paid before issue 13). Reply
classification is timed on a 64 KB hostile reply (it must stay linear: no backtracking).
"""

from __future__ import annotations

import datetime as dt
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from app.conversation.feedback import classify_reply  # noqa: E402
from app.conversation.learnings import LearningSource, new_learning  # noqa: E402
from app.conversation.store import FindingState, PostedFindingRecord  # noqa: E402
from app.conversation.suppress import suppress  # noqa: E402
from app.review.findings import Category, Finding, Severity  # noqa: E402

NOW = dt.datetime(2026, 11, 30, tzinfo=dt.UTC)
WORDS = [
    "unused",
    "variable",
    "shadowed",
    "import",
    "missing",
    "test",
    "null",
    "check",
    "race",
    "condition",
    "sql",
    "injection",
    "leak",
]
DIRS = ["app", "lib", "tests", "src", "web"]


def _title(rng: random.Random) -> str:
    return " ".join(rng.sample(WORDS, 4))


def findings(rng: random.Random, n: int) -> list[Finding]:
    return [
        Finding(
            category=rng.choice(list(Category)),
            severity=Severity.MINOR,
            confidence=0.8,
            path=f"{rng.choice(DIRS)}/mod{i % 50}.py",
            line=i + 1,
            quote=f"x{i} = compute()",
            title=_title(rng),
            body="b",
        )
        for i in range(n)
    ]


def learnings(rng: random.Random, n: int) -> list:  # type: ignore[type-arg]
    return [
        new_learning(
            repo="o/r",
            path=f"{rng.choice(DIRS)}/m.py",
            category=rng.choice(list(Category)).value,
            title=_title(rng),
            fp=None,
            person="lead",
            words="false positive",
            source=LearningSource.REACTION,
            now=NOW,
        ).model_copy(update={"id": i})
        for i in range(n)
    ]


def closed(rng: random.Random, n: int) -> list[PostedFindingRecord]:
    return [
        PostedFindingRecord(
            fingerprint=f"{i:016x}",
            path=f"{rng.choice(DIRS)}/mod{i % 50}.py",
            line=1,
            category="risk",
            severity="minor",
            title=_title(rng),
            body="b",
            quote="q",
            state=FindingState.RESOLVED,
        )
        for i in range(n)
    ]


def best_ms(fn: object, repeat: int = 5) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()  # type: ignore[operator]
        times.append((time.perf_counter() - start) * 1000)
    return min(times)


def main() -> None:
    rng = random.Random(13)
    found = findings(rng, 200)
    shut = closed(rng, 50)
    print("suppress() on 200 findings, 50 closed threads on the PR:")
    base = best_ms(lambda: suppress(found, [], []))
    print(f"  baseline (no learnings, no closed threads) {base:8.2f} ms")
    for n in (10, 100, 1000):
        items = learnings(rng, n)
        kept, dropped = suppress(found, items, shut)
        ms = best_ms(lambda items=items: suppress(found, items, shut))
        print(f"  {n:5d} learnings {ms:8.2f} ms   suppressed {len(dropped):3d} of {len(found)}")
    hostile = ("not " * 4000 + "a false positive? " * 1000)[:65_536]
    ms = best_ms(lambda: classify_reply(hostile))
    print(f"classify_reply on a {len(hostile):,}-char hostile reply: {ms:.2f} ms (linear scan)")


if __name__ == "__main__":
    main()

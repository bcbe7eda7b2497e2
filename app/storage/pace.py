"""GitHub's secondary write limits as schedules (GCRA): pure arithmetic, no clock and no I/O.

Hand-written: the rate-limit libraries on PyPI keep their state in process memory or Redis, and
here the state is one database row per installation shared by every process.

GitHub allows an installation at most 80 content-creating requests a minute and 500 an hour
(https://docs.github.com/rest/using-the-rest-api/rate-limits-for-the-rest-api). Each limit is a
`Budget`: calls are spaced `interval` apart on average, and a quiet installation may run up to
`tolerance` seconds ahead of schedule, which is exactly as much burst as keeps any window of the
limit's length within its count. A call is sent at the first moment every budget allows, and each
budget's schedule moves past that moment (the virtual-scheduling form of GCRA).
"""

from __future__ import annotations

from dataclasses import dataclass

PER_MINUTE, MINUTE_S = 80, 60.0
PER_HOUR, HOUR_S = 500, 3600.0
# Sustained 400 an hour leaves 100 of GitHub's 500 for bursts (reviews come in bursts).
HOURLY_INTERVAL_S = HOUR_S / 400


@dataclass(frozen=True, slots=True)
class Budget:
    interval: float  # average seconds between calls
    tolerance: float  # how far ahead of schedule a burst may run


def budget_for(calls: int, window_s: float, interval: float) -> Budget:
    """The budget that spaces calls `interval` apart yet never sends more than `calls` in `window_s`.

    GCRA admits at most 1 + (window + tolerance) / interval calls in any window.
    """
    return Budget(interval, max(0.0, (calls - 1) * interval - window_s))


def github_budgets(interval: float) -> tuple[Budget, Budget]:
    """The per-minute budget at the configured average gap, and the hourly one."""
    return (
        budget_for(PER_MINUTE, MINUTE_S, interval),
        budget_for(PER_HOUR, HOUR_S, max(interval, HOURLY_INTERVAL_S)),
    )


def schedule(
    tats: tuple[float | None, ...], now: float, budgets: tuple[Budget, ...]
) -> tuple[float, tuple[float, ...]]:
    """Reserve one call: return (when to send it, every budget's next theoretical arrival time).

    `tats[i]` is budget i's theoretical arrival time (None: never used). All times in seconds.
    """
    send = max([now] + [tat - b.tolerance for tat, b in zip(tats, budgets, strict=True) if tat is not None])
    moved = tuple(max(tat or send, send) + b.interval for tat, b in zip(tats, budgets, strict=True))
    return send, moved

"""The daily model budget of an installation: how much today's runs cost, and whether one more may run.

`MINI_MAX_COST_PER_DAY` caps each installation (one GitHub account) per UTC day; a repository's
`max_cost_per_day` can only lower it for its own PRs. Spend is the sum of recorded run costs, so it
needs no table of its own; a run is counted once it has finished, so runs started at the same moment
can overshoot the cap by at most their own cost.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from app.config.repo_config import RepoConfig
from app.pipeline.ports import SpendStore


@dataclass(frozen=True, slots=True)
class DailyBudget:
    limit: float | None  # USD; None: no cap
    spent: float  # USD so far today (UTC)

    @property
    def exhausted(self) -> bool:
        return self.limit is not None and self.spent >= self.limit

    def describe(self) -> str:
        """Return the day's spend as people read it, e.g. "$4.10 of $5.00 spent today (UTC)"."""
        cap = f" of ${self.limit:,.2f}" if self.limit is not None else ""
        return f"${self.spent:,.2f}{cap} spent today (UTC) by this installation"


def daily_limit(server_limit: float | None, cfg: RepoConfig) -> float | None:
    """The cap in force for one repository: the lower of the server's and the repo's."""
    limits = [x for x in (server_limit, cfg.max_cost_per_day) if x is not None]
    return min(limits) if limits else None


def start_of_day(now: dt.datetime) -> dt.datetime:
    return now.astimezone(dt.UTC).replace(hour=0, minute=0, second=0, microsecond=0)


async def today(store: SpendStore, owner: str, limit: float | None, now: dt.datetime) -> DailyBudget:
    return DailyBudget(limit=limit, spent=await store.spent_since(owner, start_of_day(now)))


def over_budget_reason(budget: DailyBudget) -> str:
    return (
        f"the daily model budget is used up ({budget.describe()}); reviews resume at 00:00 UTC, "
        "or sooner if MINI_MAX_COST_PER_DAY (or the repository's max_cost_per_day) is raised"
    )


def budget_marker(now: dt.datetime) -> str:
    """The hidden line that says the PR was told about today's exhausted budget."""
    return f"<!-- mini-review:budget-exhausted={start_of_day(now).date().isoformat()} -->"

"""Token usage of model calls and what it costs."""

from __future__ import annotations

from dataclasses import dataclass

from pydantic import BaseModel, ConfigDict, Field


class Usage(BaseModel):
    """Tokens billed for one or more model responses."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    prompt_tokens: int = Field(default=0, ge=0)
    cached_tokens: int = Field(default=0, ge=0)  # part of prompt_tokens served from the prompt cache
    completion_tokens: int = Field(default=0, ge=0)
    reasoning_tokens: int = Field(default=0, ge=0)  # part of completion_tokens
    calls: int = Field(default=0, ge=0)  # responses received (each one is billed)

    def __add__(self, other: Usage) -> Usage:
        return Usage(
            prompt_tokens=self.prompt_tokens + other.prompt_tokens,
            cached_tokens=self.cached_tokens + other.cached_tokens,
            completion_tokens=self.completion_tokens + other.completion_tokens,
            reasoning_tokens=self.reasoning_tokens + other.reasoning_tokens,
            calls=self.calls + other.calls,
        )


@dataclass(frozen=True, slots=True)
class Prices:
    """US dollars per million tokens (defaults: GPT-5.4 Mini list prices)."""

    input_per_m: float = 0.75
    cached_input_per_m: float = 0.075
    output_per_m: float = 4.50


def cost_usd(usage: Usage, prices: Prices) -> float:
    """Return the dollar cost of `usage`: cached input at the cached price, reasoning billed as output."""
    cached = min(usage.cached_tokens, usage.prompt_tokens)
    uncached = usage.prompt_tokens - cached
    # completion_tokens already includes reasoning_tokens (OpenAI reports them as a breakdown).
    total = (
        uncached * prices.input_per_m
        + cached * prices.cached_input_per_m
        + usage.completion_tokens * prices.output_per_m
    )
    return total / 1_000_000


class UsageMeter:
    """A running total that calls add to as responses arrive, so budgets see usage live."""

    def __init__(self) -> None:
        self.total = Usage()

    def add(self, usage: Usage) -> None:
        self.total = self.total + usage

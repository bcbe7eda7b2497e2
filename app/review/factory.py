"""Build the model client and reviewer settings from configuration (shared by the server and the CLI)."""

from __future__ import annotations

import openai

from app.review.llm import ModelClient, RetryPolicy
from app.review.reviewer import ReviewerConfig
from app.review.usage import Prices
from app.settings import ModelSettings


def build_openai_client(settings: ModelSettings) -> openai.AsyncOpenAI:
    """Return the SDK client; our retry policy (Retry-After, backoff, fallbacks) replaces the SDK's."""
    return openai.AsyncOpenAI(
        api_key=settings.openai_api_key.get_secret_value(),
        base_url=settings.openai_base_url,
        max_retries=0,
        timeout=settings.model_timeout_s,
    )


def build_model_client(
    settings: ModelSettings,
    client: openai.AsyncOpenAI,
    *,
    prompt_cache_key: str | None = None,
    client_class: type[ModelClient] = ModelClient,
) -> ModelClient:
    return client_class(
        client,
        max_concurrency=settings.model_concurrency,
        reasoning_effort=settings.reasoning_effort,
        max_completion_tokens=settings.max_completion_tokens,
        timeout=settings.model_timeout_s,
        retry=RetryPolicy(max_attempts=settings.model_max_attempts, base_delay=settings.model_backoff_base_s),
        prompt_cache_key=prompt_cache_key,
    )


def reviewer_config(settings: ModelSettings) -> ReviewerConfig:
    s = settings
    return ReviewerConfig(
        model=s.mini_model,
        escalation_model=s.escalation_model,
        reasoning_effort=s.reasoning_effort,
        max_completion_tokens=s.max_completion_tokens,
        max_input_tokens_per_pr=s.max_input_tokens_per_pr,
        max_cost_usd_per_pr=s.max_cost_per_pr,
        prices=Prices(
            input_per_m=s.price_input_per_m,
            cached_input_per_m=s.price_cached_input_per_m,
            output_per_m=s.price_output_per_m,
        ),
        escalation_prices=Prices(
            input_per_m=s.escalation_price_input_per_m,
            cached_input_per_m=s.escalation_price_cached_input_per_m,
            output_per_m=s.escalation_price_output_per_m,
        ),
        pack_tokens=s.chunk_tokens,
        pack_max_files=s.pack_max_files,
        context_tokens=s.context_budget,
    )

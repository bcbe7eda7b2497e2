"""The one Settings object: environment variables (and `.env`), validated once at start."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, ValidationError, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from app.errors import ConfigError


class ModelSettings(BaseSettings):
    """What reviewing a diff needs (model, prices, budgets, thresholds): the server's and the CLI's."""

    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    openai_api_key: SecretStr = Field(validation_alias="OPENAI_API_KEY")
    openai_base_url: str | None = Field(default=None, validation_alias="OPENAI_BASE_URL")
    mini_model: str = Field(default="gpt-5.4-mini", validation_alias="MINI_MODEL")
    escalation_model: str | None = Field(default=None, validation_alias="ESCALATION_MODEL")
    reasoning_effort: Literal["none", "minimal", "low", "medium", "high", "xhigh"] | None = Field(
        default="low", validation_alias="MINI_REASONING_EFFORT"
    )
    max_completion_tokens: int = Field(default=8192, ge=256, validation_alias="MINI_MAX_COMPLETION_TOKENS")
    model_concurrency: int = Field(default=8, ge=1, le=256, validation_alias="MINI_MODEL_CONCURRENCY")
    model_timeout_s: float = Field(default=120.0, gt=0, validation_alias="MINI_MODEL_TIMEOUT")
    model_max_attempts: int = Field(default=5, ge=1, le=20, validation_alias="MINI_MODEL_MAX_ATTEMPTS")
    model_backoff_base_s: float = Field(default=1.0, ge=0, validation_alias="MINI_MODEL_BACKOFF_BASE")
    price_input_per_m: float = Field(default=0.75, ge=0, validation_alias="MINI_PRICE_INPUT_PER_M")
    price_cached_input_per_m: float = Field(
        default=0.075, ge=0, validation_alias="MINI_PRICE_CACHED_INPUT_PER_M"
    )
    price_output_per_m: float = Field(default=4.50, ge=0, validation_alias="MINI_PRICE_OUTPUT_PER_M")
    # The flagship's prices, for the cost of escalation re-checks (set them to your gateway's).
    escalation_price_input_per_m: float = Field(
        default=2.50, ge=0, validation_alias="ESCALATION_PRICE_INPUT_PER_M"
    )
    escalation_price_cached_input_per_m: float = Field(
        default=0.25, ge=0, validation_alias="ESCALATION_PRICE_CACHED_INPUT_PER_M"
    )
    escalation_price_output_per_m: float = Field(
        default=15.00, ge=0, validation_alias="ESCALATION_PRICE_OUTPUT_PER_M"
    )

    chunk_tokens: int = Field(default=12_000, ge=500, validation_alias="MINI_CHUNK_TOKENS")
    # Small files share a model call, up to this many files per call (1: one call per file).
    pack_max_files: int = Field(default=12, ge=1, le=100, validation_alias="MINI_PACK_MAX_FILES")
    # Read-only context (enclosing functions/classes) per model call; unset: a quarter of the chunk budget.
    context_tokens: int | None = Field(default=None, ge=0, validation_alias="MINI_CONTEXT_TOKENS")
    max_chunks_per_pr: int | None = Field(default=200, ge=1, validation_alias="MINI_MAX_CHUNKS_PER_PR")
    max_input_tokens_per_pr: int | None = Field(default=None, ge=1, validation_alias="MINI_MAX_TOKENS_PER_PR")
    max_cost_per_pr: float | None = Field(default=None, gt=0, validation_alias="MINI_MAX_COST_PER_PR")
    # Per installation (one GitHub account) and UTC day; a repo config may only lower it.
    max_cost_per_day: float | None = Field(default=None, gt=0, validation_alias="MINI_MAX_COST_PER_DAY")
    min_severity: Literal["nit", "minor", "major", "critical"] = Field(
        default="minor", validation_alias="MINI_MIN_SEVERITY"
    )
    min_confidence: float = Field(default=0.5, ge=0, le=1, validation_alias="MINI_MIN_CONFIDENCE")
    max_inline_comments: int = Field(default=15, ge=0, le=100, validation_alias="MINI_MAX_INLINE_COMMENTS")

    @property
    def context_budget(self) -> int:
        return self.chunk_tokens // 4 if self.context_tokens is None else self.context_tokens


class Settings(ModelSettings):
    """Server configuration. Names are a public contract: see the README."""

    github_app_id: int = Field(validation_alias="GITHUB_APP_ID")
    github_app_private_key: SecretStr | None = Field(default=None, validation_alias="GITHUB_APP_PRIVATE_KEY")
    github_app_private_key_path: Path | None = Field(
        default=None, validation_alias="GITHUB_APP_PRIVATE_KEY_PATH"
    )
    github_webhook_secret: SecretStr = Field(validation_alias="GITHUB_WEBHOOK_SECRET")
    github_api_url: str = Field(default="https://api.github.com", validation_alias="GITHUB_API_URL")

    database_url: str = Field(default="sqlite+aiosqlite:///./mini-review.db", validation_alias="DATABASE_URL")
    public_url: str = Field(default="http://localhost:8000", validation_alias="PUBLIC_URL")
    worker_mode: Literal["embedded", "off"] = Field(default="embedded", validation_alias="MINI_WORKER")
    worker_concurrency: int = Field(default=4, ge=1, le=64, validation_alias="MINI_WORKER_CONCURRENCY")
    debounce_s: float = Field(default=2.0, ge=0, validation_alias="MINI_DEBOUNCE_SECONDS")
    job_lease_s: float = Field(default=300.0, gt=0, validation_alias="MINI_JOB_LEASE_SECONDS")
    job_max_attempts: int = Field(default=5, ge=1, validation_alias="MINI_JOB_MAX_ATTEMPTS")
    shutdown_grace_s: float = Field(default=25.0, ge=0, validation_alias="MINI_SHUTDOWN_GRACE_SECONDS")
    github_write_interval_s: float = Field(default=1.0, ge=0, validation_alias="MINI_GITHUB_WRITE_INTERVAL")
    retention_days: float = Field(default=30.0, ge=4, validation_alias="MINI_RETENTION_DAYS")
    answers_per_pr_per_hour: int = Field(default=10, ge=0, validation_alias="MINI_ANSWERS_PER_PR_PER_HOUR")
    log_level: str = Field(default="INFO", validation_alias="LOG_LEVEL")
    log_format: Literal["text", "json"] = Field(default="text", validation_alias="LOG_FORMAT")
    # Worker processes serve no HTTP: with this set, `mini-review worker` serves /metrics on it.
    metrics_port: int | None = Field(default=None, ge=1, le=65535, validation_alias="MINI_METRICS_PORT")

    # Dashboard sign-in (the GitHub App's OAuth credentials); without a client id only public repos show.
    github_client_id: str | None = Field(default=None, validation_alias="GITHUB_CLIENT_ID")
    github_client_secret: SecretStr | None = Field(default=None, validation_alias="GITHUB_CLIENT_SECRET")
    github_url: str = Field(default="https://github.com", validation_alias="GITHUB_URL")
    session_secret: SecretStr | None = Field(default=None, validation_alias="MINI_SESSION_SECRET")
    access_cache_s: float = Field(default=300.0, ge=0, validation_alias="MINI_ACCESS_CACHE_SECONDS")

    @model_validator(mode="after")
    def _need_a_private_key(self) -> Settings:
        if self.github_app_private_key is None and self.github_app_private_key_path is None:
            raise ValueError("GITHUB_APP_PRIVATE_KEY or GITHUB_APP_PRIVATE_KEY_PATH must be set")
        return self

    @model_validator(mode="after")
    def _client_secret_with_id(self) -> Settings:
        if self.github_client_id and self.github_client_secret is None:
            raise ValueError("GITHUB_CLIENT_SECRET must be set when GITHUB_CLIENT_ID is")
        return self

    @property
    def sign_in_enabled(self) -> bool:
        return bool(self.github_client_id)

    def private_key_pem(self) -> str:
        """Return the App's PEM key, reading the file when only a path was given."""
        if self.github_app_private_key is not None:
            # Env files often hold the key on one line with literal "\n".
            return self.github_app_private_key.get_secret_value().replace("\\n", "\n")
        assert self.github_app_private_key_path is not None
        try:
            return self.github_app_private_key_path.read_text("utf-8")
        except OSError as exc:
            path = self.github_app_private_key_path
            raise ConfigError(f"GITHUB_APP_PRIVATE_KEY_PATH: cannot read {path} ({exc.strerror})") from None

    def run_url(self, run_id: str) -> str:
        return f"{self.public_url.rstrip('/')}/runs/{run_id}"


def _describe(error: ValidationError) -> str:
    """One line naming the offending variables, never their values."""
    parts: list[str] = []
    for item in error.errors():
        name = str(item["loc"][0]) if item["loc"] else ""
        if item["type"] == "missing":
            parts.append(f"{name} is required but not set")
        elif name:
            parts.append(f"{name} is invalid ({item['msg']})")
        else:
            parts.append(str(item["msg"]).removeprefix("Value error, "))
    return "; ".join(parts)


def load_model_settings(**overrides: object) -> ModelSettings:
    """Build only what reviewing needs (the local CLI): no GitHub App, no database."""
    try:
        return ModelSettings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        raise ConfigError(f"configuration error: {_describe(exc)}") from None


def load_settings(**overrides: object) -> Settings:
    """Build Settings from the environment, turning validation errors into one clear ConfigError."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        raise ConfigError(f"configuration error: {_describe(exc)}") from None

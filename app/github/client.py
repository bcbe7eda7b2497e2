"""GitHub App authentication and the one request path every GitHub call takes (pacing, retries, errors).

Built on githubkit with its own retry, HTTP cache and token cache left out on purpose:
- Retries: githubkit's default sleeps on any rate limit (up to an hour) and retries POSTs on 5xx (which can
  post a review twice). Here rate limits honour `retry-after`/`x-ratelimit-reset` up to a cap and then raise
  `GitHubRetryableError` so the job is rescheduled instead of pinning a worker; 5xx and dropped connections
  are retried with exponential backoff and full jitter, but a non-idempotent POST is only retried when
  GitHub guarantees nothing happened (rate limited, or the connection never opened).
- Tokens: githubkit's cache is process-global by default, keeps a token until 1 minute before expiry and
  lets concurrent first calls each mint one. `_TokenCache` keeps one per installation, refreshes it 5 minutes
  early (clock skew, long jobs), mints under a lock, and drops a token GitHub answered 401 to.
- Writes are paced per installation under GitHub's secondary limits (80 a minute, 500 an hour):
  https://docs.github.com/rest/using-the-rest-api/rate-limits-for-the-rest-api#about-secondary-rate-limits
One client serves one event loop (its locks belong to it).
"""

from __future__ import annotations

import asyncio
import logging
import random
import re
import time
from collections import deque
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol
from urllib.parse import quote

import httpx
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives.serialization import load_pem_private_key
from githubkit import AppAuthStrategy, GitHub, UnauthAuthStrategy
from githubkit.cache import MemCacheStrategy
from githubkit.exception import RequestError, RequestFailed, RequestTimeout

from app.errors import ConfigError, GitHubPermanentError, GitHubRetryableError
from app.github.api import InstallationAPI
from app.observability.metrics import record_github_call

logger = logging.getLogger(__name__)

WRITE_METHODS = frozenset({"POST", "PATCH", "PUT", "DELETE"})
API_VERSION = "2022-11-28"  # the fields read here are the same in every version; GHES 3.9+ knows this one

_SECRET_PATTERNS = [
    re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----.*?(-----END [A-Z ]*PRIVATE KEY-----|$)", re.S),
    re.compile(r"\b(gh[opsur]_[A-Za-z0-9_]{16,}|github_pat_[A-Za-z0-9_]{20,})"),
    re.compile(r"\beyJ[\w-]+\.[\w-]+\.[\w-]+"),  # JWTs
    re.compile(r"(?i)\b(token|bearer)\s+[\w.-]{16,}"),
]


def redact_secrets(text: str) -> str:
    """Replace anything that looks like a key, token or JWT with a marker."""
    for pattern in _SECRET_PATTERNS:
        text = pattern.sub("[redacted]", text)
    return text


@dataclass(frozen=True)
class RetryPolicy:
    """How hard to try before raising `GitHubRetryableError` to the job layer."""

    attempts: int = 4  # tries per call for 5xx / connection failures (first try included)
    rate_limit_retries: int = 2  # extra tries after a rate-limit answer
    backoff_base: float = 0.5  # seconds; attempt n waits uniform(0, min(cap, base * 2**(n-1)))
    backoff_cap: float = 8.0
    max_rate_limit_wait: float = 60.0  # longer waits are handed back as retry_after instead of slept


class WritePacer:
    """Space content-creating requests: a minimum gap plus sliding per-minute and per-hour budgets."""

    def __init__(
        self,
        min_interval: float = 0.1,
        per_minute: int = 80,
        per_hour: int = 500,
        *,
        max_wait: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.min_interval = min_interval
        self.per_minute = per_minute
        self.per_hour = per_hour
        self.max_wait = max_wait
        self._clock = clock
        self._sleep = sleep
        self._stamps: deque[float] = deque()
        self._lock = asyncio.Lock()

    def delay(self, now: float) -> float:
        """Return how long a write starting at `now` must wait."""
        while self._stamps and self._stamps[0] <= now - 3600:
            self._stamps.popleft()
        wait = 0.0
        if self._stamps:
            wait = self._stamps[-1] + self.min_interval - now
        if len(self._stamps) >= self.per_hour:
            wait = max(wait, self._stamps[-self.per_hour] + 3600 - now)
        last_minute = [s for s in self._stamps if s > now - 60]
        if len(last_minute) >= self.per_minute:
            wait = max(wait, last_minute[-self.per_minute] + 60 - now)
        return wait

    async def wait(self) -> None:
        """Wait for this write's turn, or raise `GitHubRetryableError` when the budget is spent for long."""
        async with self._lock:
            while (wait := self.delay(self._clock())) > 0:
                if wait > self.max_wait:
                    raise GitHubRetryableError(
                        "write budget for this installation is spent", retry_after=wait
                    )
                await self._sleep(wait)
            self._stamps.append(self._clock())


class FleetPacer(Protocol):
    """Spaces an installation's content-creating calls across every process (see app.storage.pacing)."""

    async def delay(self, installation_id: int) -> float:
        """Reserve the installation's next write slot; return the seconds until it."""
        ...


@dataclass
class _Token:
    value: str
    expires_at: float  # epoch seconds


class _TokenCache:
    """Installation tokens, one per installation, minted under a lock and refreshed early."""

    def __init__(self, mint: Callable[[int], Awaitable[_Token]], margin: float) -> None:
        self._mint = mint
        self._margin = margin
        self._tokens: dict[int, _Token] = {}
        self._locks: dict[int, asyncio.Lock] = {}

    def _fresh(self, installation_id: int) -> str | None:
        token = self._tokens.get(installation_id)
        if token is not None and token.expires_at - self._margin > time.time():
            return token.value
        return None

    async def get(self, installation_id: int) -> str:
        if (value := self._fresh(installation_id)) is not None:
            return value
        async with self._locks.setdefault(installation_id, asyncio.Lock()):
            if (value := self._fresh(installation_id)) is not None:
                return value  # another task minted while we waited
            token = await self._mint(installation_id)
            self._tokens[installation_id] = token
            return token.value

    def invalidate(self, installation_id: int, value: str) -> None:
        token = self._tokens.get(installation_id)
        if token is not None and token.value == value:
            del self._tokens[installation_id]


def _retry_after(response: httpx.Response) -> float | None:
    """Return the wait a rate-limit answer asks for, or None when the answer is not a rate limit."""
    if response.status_code not in (403, 429):
        return None
    headers = response.headers
    if "retry-after" in headers:
        try:
            return max(float(headers["retry-after"]), 0.0)
        except ValueError:
            return 60.0
    if headers.get("x-ratelimit-remaining") == "0" and "x-ratelimit-reset" in headers:
        return max(float(headers["x-ratelimit-reset"]) - time.time(), 0.0) + 1.0
    if response.status_code == 429 or "rate limit" in _message(response).lower():
        return 60.0  # GitHub: "wait for at least one minute before retrying"
    return None


def _message(response: httpx.Response) -> str:
    try:
        data = response.json()
    except ValueError:
        return response.reason_phrase
    if isinstance(data, dict):
        text = str(data.get("message", ""))
        errors = data.get("errors")
        return f"{text} {errors}" if errors else text
    return response.reason_phrase


def graphql_url(base_url: str) -> str:
    """Return where GraphQL lives: `/graphql` beside the REST API, `/api/graphql` on GHES (`/api/v3`)."""
    base = base_url.rstrip("/")
    if base.endswith("/api/v3"):
        return base[: -len("/api/v3")] + "/api/graphql"  # absolute: httpx leaves it as it is
    return "/graphql"


class GitHubAppClient:
    """A GitHub App: mints installation tokens and hands out one `InstallationAPI` per installation."""

    def __init__(
        self,
        app_id: int,
        private_key: str,
        base_url: str = "https://api.github.com",
        *,
        timeout: float = 30.0,
        retry: RetryPolicy | None = None,
        write_interval: float = 0.1,
        fleet_pacer: FleetPacer | None = None,
        token_margin: float = 300.0,
        user_agent: str = "mini-review",
    ) -> None:
        try:
            load_pem_private_key(private_key.encode(), password=None)
        except (ValueError, TypeError, UnsupportedAlgorithm):
            raise ConfigError("the GitHub App private key is not a valid unencrypted PEM key") from None
        self.app_id = app_id
        self.retry = retry or RetryPolicy()
        self.write_interval = write_interval
        # With a fleet pacer the average gap is kept across processes; this process only keeps the
        # per-minute and per-hour caps (a burst within GitHub's budget is fine).
        self.fleet_pacer = fleet_pacer
        cache = MemCacheStrategy()  # never githubkit's process-wide default: clients must not share JWTs
        # githubkit opens an httpx client per call; one prebuilt TLS context saves ~20 ms on each.
        tls = httpx.create_ssl_context()
        self._app_gh = GitHub(
            AppAuthStrategy(app_id=app_id, private_key=private_key),
            base_url=base_url,
            timeout=timeout,
            user_agent=user_agent,
            cache_strategy=cache,
            ssl_verify=tls,
            http_cache=False,
            auto_retry=False,
            rest_api_validate_body=False,
        )
        # Installation calls carry our cached token in an explicit header.
        self._gh = GitHub(
            UnauthAuthStrategy(),
            base_url=base_url,
            timeout=timeout,
            user_agent=user_agent,
            cache_strategy=cache,
            ssl_verify=tls,
            http_cache=False,
            auto_retry=False,
            rest_api_validate_body=False,
        )
        self._tokens = _TokenCache(self._mint, token_margin)
        self.graphql_path = graphql_url(base_url)
        self._pacers: dict[int, WritePacer] = {}
        self._apis: dict[int, InstallationAPI] = {}
        self._bot_login: str | None = None

    async def bot_login(self) -> str:
        """Return the login this App posts as (`{slug}[bot]`), from `GET /app`, asked once."""
        if self._bot_login is None:
            headers = {"X-GitHub-Api-Version": API_VERSION}
            response = await self._send(self._app_gh, "GET", "/app", headers=headers, idempotent=True)
            self._bot_login = f"{response.json()['slug']}[bot]"
        return self._bot_login

    async def for_installation(self, installation_id: int) -> InstallationAPI:
        """Return the API for one installation, minting (or reusing) its token first to fail fast."""
        await self._tokens.get(installation_id)
        api = self._apis.get(installation_id)
        if api is None:
            api = self._apis[installation_id] = InstallationAPI(
                self, installation_id, self.graphql_path, app_id=self.app_id
            )
        return api

    async def request(
        self,
        installation_id: int,
        method: str,
        path: str,
        *,
        params: Mapping[str, str | int] | None = None,
        json: object = None,
        idempotent: bool | None = None,
    ) -> httpx.Response:
        """Send one call as the installation; return the 2xx response or raise a `GitHubError`."""
        method = method.upper()
        if idempotent is None:
            idempotent = method != "POST"
        pacer = None
        if method in WRITE_METHODS:
            gap = 0.0 if self.fleet_pacer is not None else self.write_interval
            pacer = self._pacers.setdefault(installation_id, WritePacer(gap))
            if self.fleet_pacer is not None:
                await self._wait_for_fleet_slot(self.fleet_pacer, installation_id)
        refreshed = False
        while True:
            token = await self._tokens.get(installation_id)
            headers = {"Authorization": f"token {token}", "X-GitHub-Api-Version": API_VERSION}
            try:
                return await self._send(
                    self._gh,
                    method,
                    path,
                    params=params,
                    json=json,
                    headers=headers,
                    idempotent=idempotent,
                    pacer=pacer,
                )
            except GitHubPermanentError as exc:
                if exc.status != 401 or refreshed:
                    raise
                # A revoked or early-expired token: drop it and try once with a fresh one.
                self._tokens.invalidate(installation_id, token)
                refreshed = True

    async def repo_installation_id(self, owner: str, name: str) -> int:
        """The id of the App's installation on a repository (`GET /repos/{o}/{r}/installation`)."""
        path = f"/repos/{quote(owner, safe='')}/{quote(name, safe='')}/installation"
        headers = {"X-GitHub-Api-Version": API_VERSION}
        reply = await self._send(self._app_gh, "GET", path, headers=headers, idempotent=True)
        return int(reply.json()["id"])

    async def _mint(self, installation_id: int) -> _Token:
        path = f"/app/installations/{installation_id}/access_tokens"
        headers = {"X-GitHub-Api-Version": API_VERSION}
        response = await self._send(self._app_gh, "POST", path, headers=headers, idempotent=True)
        data = response.json()
        expires = datetime.fromisoformat(str(data["expires_at"])).astimezone(UTC).timestamp()
        logger.info("minted a token for installation %s", installation_id)
        return _Token(str(data["token"]), expires)

    async def _send(
        self,
        gh: GitHub[Any],
        method: str,
        path: str,
        *,
        headers: dict[str, str],
        idempotent: bool,
        params: Mapping[str, str | int] | None = None,
        json: object = None,
        pacer: WritePacer | None = None,
    ) -> httpx.Response:
        policy = self.retry
        failures = 0
        rate_limited = 0
        while True:
            if pacer is not None:
                await pacer.wait()
            response: httpx.Response | None = None
            transport_error: tuple[str, bool] | None = None  # (problem, safe to resend)
            try:
                reply = await gh.arequest(method, path, params=params, json=json, headers=headers)
                record_github_call(method, reply.raw_response.status_code, reply.raw_response.headers)
                return reply.raw_response
            except RequestFailed as exc:
                response = exc.response.raw_response
                record_github_call(method, response.status_code, response.headers)
            except RequestTimeout as exc:
                # Nothing reached GitHub when the connection itself timed out.
                transport_error = ("timed out", isinstance(exc.exc, httpx.ConnectTimeout))
            except RequestError as exc:
                transport_error = (type(exc.exc).__name__, isinstance(exc.exc, httpx.ConnectError))
            # Errors are raised here, outside the except blocks, so no githubkit exception (which holds
            # the request and its Authorization header) rides along as __context__.
            if transport_error is not None:
                record_github_call(method, "error")
                failures += 1
                problem = redact_secrets(f"GitHub {method} {path} failed: {transport_error[0]}")
                wait = self._backoff_or_raise(problem, failures, idempotent or transport_error[1])
                logger.warning("%s; retrying in %.2fs", problem, wait)
                await asyncio.sleep(wait)
                continue
            assert response is not None
            status = response.status_code
            problem = redact_secrets(f"GitHub {method} {path} answered {status}: {_message(response)}")
            wait_for = _retry_after(response)
            if wait_for is not None:
                rate_limited += 1
                if wait_for > policy.max_rate_limit_wait or rate_limited > policy.rate_limit_retries:
                    raise GitHubRetryableError(problem, status=status, retry_after=wait_for)
                logger.warning("%s; rate limited, retrying in %.1fs", problem, wait_for)
                await asyncio.sleep(wait_for)
                continue
            if status >= 500:
                failures += 1
                wait = self._backoff_or_raise(problem, failures, idempotent, status=status)
                logger.warning("%s; retrying in %.2fs", problem, wait)
                await asyncio.sleep(wait)
                continue
            raise GitHubPermanentError(problem, status=status)

    async def _wait_for_fleet_slot(self, pacer: FleetPacer, installation_id: int) -> None:
        wait = await pacer.delay(installation_id)
        if wait > self.retry.max_rate_limit_wait:
            # The hour's budget is spent: hand the job back with a time to retry, not hold a worker.
            raise GitHubRetryableError("write budget for this installation is spent", retry_after=wait)
        if wait > 0:
            await asyncio.sleep(wait)

    def _backoff_or_raise(
        self, problem: str, failures: int, safe: bool, *, status: int | None = None
    ) -> float:
        """Return the jittered wait before another try, or raise when retrying is unsafe or spent."""
        policy = self.retry
        if not safe or failures >= policy.attempts:
            raise GitHubRetryableError(problem, status=status)
        return random.uniform(0.0, min(policy.backoff_cap, policy.backoff_base * 2 ** (failures - 1)))

"""The GitHub Action side of `mini-review review --post-review`: one review on the event's PR.

It runs with the workflow's `GITHUB_TOKEN` (no App): the token is sent as is, so the transport here is
a plain httpx client with a short retry on 429/5xx rather than the App client, whose token minting and
installation pacing do not apply. Dedup works as in the App: every posted body ends with hidden
fingerprint markers, and markers are read back only from comments of the token's own bot account.
"""

from __future__ import annotations

import asyncio
import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from app.config.repo_config import RepoConfig
from app.errors import GitHubPermanentError, GitHubRetryableError, PermanentError
from app.github.api import InstallationAPI
from app.github.models import RepoRef
from app.local.engine import LocalFinding, LocalReport
from app.pipeline.files import to_file_diff
from app.pipeline.posting import comment_fits, post_review
from app.publish.fingerprint import marker, markers_in
from app.publish.markdown import comment_body, neutralise_line
from app.publish.placement import to_review_comment

DEFAULT_BOT = "github-actions[bot]"
_ATTEMPTS = 3
_MAX_WAIT_S = 60.0


class ActionError(PermanentError):
    """The workflow environment lacks what posting a review needs."""


class TokenTransport:
    """Send GitHub REST calls with a fixed token (the `GitHubTransport` port of `InstallationAPI`)."""

    def __init__(self, api_url: str, token: str, *, sleep: Any = asyncio.sleep) -> None:
        self._client = httpx.AsyncClient(
            base_url=api_url.rstrip("/"),
            headers={
                "Authorization": f"Bearer {token}",
                "Accept": "application/vnd.github+json",
                "X-GitHub-Api-Version": "2022-11-28",
                "User-Agent": "mini-review-action",
            },
            timeout=30.0,
        )
        self._sleep = sleep

    async def close(self) -> None:
        await self._client.aclose()

    async def request(
        self,
        installation_id: int,  # noqa: ARG002 - one token serves one repository
        method: str,
        path: str,
        *,
        params: Mapping[str, str | int] | None = None,
        json: object = None,
        idempotent: bool | None = None,
    ) -> httpx.Response:
        for attempt in range(1, _ATTEMPTS + 1):
            response = await self._client.request(method, path, params=params, json=json)
            status = response.status_code
            if status < 400:
                return response
            problem = f"GitHub {method} {path} answered {status}"
            retry_after = response.headers.get("retry-after")
            transient = status == 429 or status >= 500 or (status == 403 and retry_after is not None)
            if not transient:
                raise GitHubPermanentError(problem, status=status)
            if attempt == _ATTEMPTS or (method == "POST" and idempotent is False):
                raise GitHubRetryableError(problem, status=status)
            wait = float(retry_after) if retry_after and retry_after.isdigit() else 2.0**attempt
            await self._sleep(min(wait, _MAX_WAIT_S))
        raise AssertionError("unreachable")


def _required(env: Mapping[str, str], name: str) -> str:
    value = env.get(name, "").strip()
    if not value:
        raise ActionError(f"--post-review needs {name} (set by GitHub Actions)")
    return value


@dataclass(frozen=True)
class ActionContext:
    """The pull request a workflow run is about, and how to reach GitHub."""

    api_url: str
    token: str
    repo_full_name: str
    number: int
    base_sha: str
    head_sha: str
    title: str
    description: str
    bot_login: str = DEFAULT_BOT

    @property
    def refs(self) -> tuple[str, str]:
        return self.base_sha, self.head_sha

    @classmethod
    def from_environment(cls, env: Mapping[str, str] | None = None) -> ActionContext:
        env = os.environ if env is None else env
        event_path = _required(env, "GITHUB_EVENT_PATH")
        try:
            event = json.loads(Path(event_path).read_bytes())
            pr = event["pull_request"]
            return cls(
                api_url=env.get("GITHUB_API_URL") or "https://api.github.com",
                token=_required(env, "GITHUB_TOKEN"),
                repo_full_name=str(event["repository"]["full_name"]),
                number=int(pr["number"]),
                base_sha=str(pr["base"]["sha"]),
                head_sha=str(pr["head"]["sha"]),
                title=str(pr.get("title") or ""),
                description=str(pr.get("body") or ""),
                bot_login=env.get("MINI_BOT_LOGIN") or DEFAULT_BOT,
            )
        except (OSError, ValueError, KeyError, TypeError):
            raise ActionError(
                f"GITHUB_EVENT_PATH ({event_path}) is not a pull_request event payload"
            ) from None

    @property
    def repo(self) -> RepoRef:
        owner, _, name = self.repo_full_name.partition("/")
        return RepoRef(owner=owner, name=name, installation_id=0)

    async def post(self, report: LocalReport, config: RepoConfig) -> str:
        """Post one review with the findings not posted before; return what was done, in one line."""
        transport = TokenTransport(self.api_url, self.token)
        try:
            return await self._post(InstallationAPI(transport, 0), report, config)
        finally:
            await transport.close()

    async def _known(self, api: InstallationAPI) -> set[str]:
        known: set[str] = set()
        for comment in await api.list_review_comments(self.repo, self.number):
            if comment.user_login == self.bot_login:
                known |= markers_in(comment.body)
        for text in await api.list_review_texts(self.repo, self.number):
            if text.user_login == self.bot_login:
                known |= markers_in(text.body)
        return known

    async def _post(self, api: InstallationAPI, report: LocalReport, config: RepoConfig) -> str:
        known = await self._known(api)
        fresh = [f for f in report.findings if f.fingerprint not in known]
        ranked = sorted(fresh, key=lambda f: (-f.finding.severity.rank, -f.finding.confidence))
        inline = [f for f in ranked if f.placed is not None][: config.max_inline_comments]
        notes = [f for f in ranked if f not in inline]
        if not inline and not notes:
            return f"mini-review: nothing new to post on #{self.number}"
        comments = [
            to_review_comment(f.placed, comment_body(f.placed, f.fingerprint)) for f in inline if f.placed
        ]
        review_id, moved = await post_review(
            api,
            self.repo,
            self.number,
            commit_id=self.head_sha,
            body=review_body(report, notes),
            comments=comments,
            revalidate=lambda batch: self._revalidate(api, batch),
        )
        return f"mini-review: posted review {review_id} on #{self.number} ({len(comments) - moved} inline)"

    async def _revalidate(self, api: InstallationAPI, comments: list[dict[str, object]]) -> list[bool]:
        files = {f.path: f for f in map(to_file_diff, await api.list_pull_files(self.repo, self.number))}
        return [comment_fits(files, c) for c in comments]


def _note_line(item: LocalFinding) -> str:
    f = item.finding
    where = f"`{neutralise_line(item.path)}`" if item.path else "the change"
    if item.line is not None:
        where += f" line {item.line}"
    return f"- **{f.severity.value}** {f.category.value} in {where}: {neutralise_line(f.title)}"


def review_body(report: LocalReport, notes: list[LocalFinding]) -> str:
    """The review's body: counts, the findings that are not inline, and their markers (for dedup)."""
    parts = [
        f"**mini-review** reviewed {report.files_reviewed} file(s): "
        f"{len(report.findings)} finding(s) over the thresholds."
    ]
    if report.failed:
        parts.append(f"{len(report.failed)} chunk(s) could not be reviewed; they are listed in the job log.")
    if notes:
        parts.append("Not inline:\n\n" + "\n".join(_note_line(n) for n in notes))
    parts.append("\n".join(marker(n.fingerprint) for n in notes))
    return "\n\n".join(p for p in parts if p)

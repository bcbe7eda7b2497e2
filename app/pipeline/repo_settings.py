"""Load a repository's effective configuration: server defaults < org `.github` repo < base branch."""

from __future__ import annotations

from app.config.repo_config import CONFIG_PATH, ConfigResult, RepoConfig, effective_config, repo_file_source
from app.errors import GitHubPermanentError
from app.github.models import RepoRef
from app.pipeline.ports import GitHubPort
from app.settings import ModelSettings


def server_defaults(settings: ModelSettings) -> RepoConfig:
    return RepoConfig.model_validate(
        {
            "min_severity": settings.min_severity,
            "min_confidence": settings.min_confidence,
            "max_inline_comments": settings.max_inline_comments,
        }
    )


class _Unreadable(Exception):
    """A config file that exists (or may) but cannot be read."""


async def _text(api: GitHubPort, repo: RepoRef, path: str, ref: str | None) -> str | None:
    """Return the file's text, None when there is no such file, or raise _Unreadable."""
    try:
        data = await api.get_file(repo, path, ref)
    except GitHubPermanentError as exc:
        # Not-found is None already (no org `.github` repo, or no file): anything else is not absence.
        raise _Unreadable(f"{repo.full_name}: {path} could not be read ({exc})") from None
    return None if data is None else data.decode("utf-8", errors="replace")


async def load_repo_config(
    api: GitHubPort, repo: RepoRef, base_ref: str, defaults: RepoConfig
) -> ConfigResult:
    """Read the config from the PR's BASE branch, so a PR cannot loosen its own review."""
    unreadable: list[str] = []

    async def read(source: RepoRef, ref: str | None) -> str | None:
        try:
            return await _text(api, source, CONFIG_PATH, ref)
        except _Unreadable as exc:
            unreadable.append(str(exc))
            return None

    repo_text = await read(repo, base_ref)
    org_text = None
    if repo.name != ".github":
        org_text = await read(
            RepoRef(owner=repo.owner, name=".github", installation_id=repo.installation_id), None
        )
    result = effective_config(defaults, org_text, repo_text, repo_source=repo_file_source(base_ref))
    result.unreadable.extend(unreadable)
    result.errors.extend(unreadable)
    return result

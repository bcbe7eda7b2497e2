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


async def _text(api: GitHubPort, repo: RepoRef, path: str, ref: str | None) -> str | None:
    try:
        data = await api.get_file(repo, path, ref)
    except GitHubPermanentError:
        # No access to the org's .github repo is normal: it just has no defaults for us.
        return None
    return None if data is None else data.decode("utf-8", errors="replace")


async def load_repo_config(
    api: GitHubPort, repo: RepoRef, base_ref: str, defaults: RepoConfig
) -> ConfigResult:
    """Read the config from the PR's BASE branch, so a PR cannot loosen its own review."""
    repo_text = await _text(api, repo, CONFIG_PATH, base_ref)
    org_text = None
    if repo.name != ".github":
        org_repo = RepoRef(owner=repo.owner, name=".github", installation_id=repo.installation_id)
        org_text = await _text(api, org_repo, CONFIG_PATH, None)  # its default branch
    return effective_config(defaults, org_text, repo_text, repo_source=repo_file_source(base_ref))

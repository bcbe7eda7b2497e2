"""Whether a repository is public, asked of GitHub with the App's own credentials."""

from __future__ import annotations

from urllib.parse import quote

from app.github.client import GitHubAppClient
from app.storage.dashboard import DashboardStore


class AppVisibility:
    """`GET /repos/{owner}/{repo}` through the installation its runs went through."""

    def __init__(self, github: GitHubAppClient, store: DashboardStore) -> None:
        self.github = github
        self.store = store

    async def is_public(self, full_name: str) -> bool:
        owner, _, name = full_name.partition("/")
        installation_id = await self.store.installation_of(full_name)
        if installation_id is None:
            installation_id = await self.github.repo_installation_id(owner, name)
        reply = await self.github.request(
            installation_id, "GET", f"/repos/{quote(owner, safe='')}/{quote(name, safe='')}"
        )
        data = reply.json()
        return isinstance(data, dict) and data.get("private") is False

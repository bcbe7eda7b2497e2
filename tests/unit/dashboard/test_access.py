"""Who may read or write a repository: the user's GitHub grants first, public visibility second,
cached per session and failing closed."""

from __future__ import annotations

from app.dashboard.access import AccessPolicy
from app.dashboard.sessions import Viewer
from app.github.oauth import RepoPermissions, UserRepo


class Visibility:
    def __init__(self, public: set[str], broken: bool = False) -> None:
        self.public = public
        self.broken = broken
        self.calls = 0

    async def is_public(self, full_name: str) -> bool:
        self.calls += 1
        if self.broken:
            raise RuntimeError("GitHub is down")
        return full_name in self.public


class Grants:
    def __init__(self, repos: list[UserRepo]) -> None:
        self.repos = repos
        self.calls = 0

    async def __call__(self, token: str) -> list[UserRepo]:
        self.calls += 1
        return list(self.repos)


BOB = Viewer(session_id="s1", login="bob", token="ghu_x", csrf="c")
WRITE = RepoPermissions(pull=True, push=True)


async def test_grants_decide_and_are_cached_per_session() -> None:
    grants = Grants([UserRepo(full_name="Acme/Private", private=True, installation_id=5, permissions=WRITE)])
    policy = AccessPolicy(Visibility(set()), grants, ttl=60)
    access = await policy.access(BOB, "acme/private")  # names are case-insensitive
    assert access.readable and access.can_write and access.installation_id == 5 and not access.public
    await policy.access(BOB, "acme/private")
    assert grants.calls == 1
    policy.forget(BOB)
    await policy.access(BOB, "acme/private")
    assert grants.calls == 2


async def test_a_zero_ttl_asks_github_every_time() -> None:
    grants = Grants([UserRepo(full_name="a/b", permissions=RepoPermissions(pull=True))])
    policy = AccessPolicy(Visibility(set()), grants, ttl=0)
    assert (await policy.access(BOB, "a/b")).readable
    grants.repos = []
    assert not (await policy.access(BOB, "a/b")).readable


async def test_public_repos_are_readable_by_anyone_but_writable_by_no_stranger() -> None:
    policy = AccessPolicy(Visibility({"o/open"}), Grants([]), ttl=60)
    anonymous = await policy.access(Viewer(), "o/open")
    assert anonymous.readable and anonymous.public and not anonymous.can_write
    assert not (await policy.access(Viewer(), "o/closed")).readable


async def test_unknown_visibility_is_private() -> None:
    visibility = Visibility({"o/open"}, broken=True)
    policy = AccessPolicy(visibility, Grants([]), ttl=60)
    assert not (await policy.access(Viewer(), "o/open")).readable
    visibility.broken = False
    assert (await policy.access(Viewer(), "o/open")).readable  # failures are not cached

"""Thread replies, reactions and review threads (GraphQL) through the real client against the fake GitHub."""

from __future__ import annotations

import pytest

from app.errors import GitHubPermanentError
from app.github.client import GitHubAppClient, RetryPolicy, graphql_url
from app.github.models import RepoRef
from tests.fakes.github import AppSlot, FakeGitHub
from tests.fakes.github_conversation import thread_id

HEAD, BASE = "a" * 40, "b" * 40
REPO = RepoRef(owner="octo", name="repo", installation_id=5)
OTHER = RepoRef(owner="octo", name="secret", installation_id=6)
PATCH = "@@ -1,2 +1,3 @@\n import os\n+x = 1\n y = 2"


@pytest.fixture
def fake(server: tuple[AppSlot, str]) -> FakeGitHub:
    fake = FakeGitHub(app_id=31337)
    for repo in (REPO, OTHER):
        fake.add_repo(repo.owner, repo.name, installation_id=repo.installation_id)
        fake.add_pull(
            repo.owner,
            repo.name,
            1,
            head_sha=HEAD,
            base_sha=BASE,
            files=[{"filename": "a.py", "patch": PATCH}],
        )
    server[0].target = fake.app
    return fake


@pytest.fixture
def client(fake: FakeGitHub, server: tuple[AppSlot, str]) -> GitHubAppClient:
    policy = RetryPolicy(attempts=2, backoff_base=0.01, backoff_cap=0.02)
    return GitHubAppClient(fake.app_id, fake.private_key_pem, server[1], retry=policy, write_interval=0.0)


async def _posted_root(client: GitHubAppClient) -> int:
    api = await client.for_installation(5)
    await api.create_review(
        REPO, 1, commit_id=HEAD, body="r", comments=[{"path": "a.py", "line": 2, "body": "c"}]
    )
    [root] = await api.list_review_comments(REPO, 1)
    return root.id


async def test_reply_lands_in_the_thread_and_replies_to_replies_are_refused(
    fake: FakeGitHub, client: GitHubAppClient
) -> None:
    api = await client.for_installation(5)
    root = await _posted_root(client)
    human = fake.add_review_reply("octo", "repo", 1, root, "why?", user="dev")
    reply_id = await api.reply_to_review_comment(REPO, 1, root, "because")
    comments = {c.id: c for c in await api.list_review_comments(REPO, 1)}
    assert comments[reply_id].in_reply_to_id == root and comments[reply_id].by_bot
    assert comments[human["id"]].in_reply_to_id == root and not comments[human["id"]].by_bot
    assert comments[root].original_line == 2 and comments[root].commit_id == HEAD
    with pytest.raises(GitHubPermanentError) as raised:
        await api.reply_to_review_comment(REPO, 1, human["id"], "nested")
    assert raised.value.status == 422


async def test_reactions_on_review_comments_are_listed_with_their_people(
    fake: FakeGitHub, client: GitHubAppClient
) -> None:
    api = await client.for_installation(5)
    root = await _posted_root(client)
    fake.react_to_review_comment("octo", "repo", root, "-1", user="lead")
    fake.react_to_review_comment("octo", "repo", root, "+1", user="dev")
    reactions = await api.list_review_comment_reactions(REPO, root)
    assert [(r.content, r.user_login) for r in reactions] == [("-1", "lead"), ("+1", "dev")]


async def test_threads_are_read_and_resolved_through_graphql(
    fake: FakeGitHub, client: GitHubAppClient
) -> None:
    api = await client.for_installation(5)
    root = await _posted_root(client)
    [thread] = await api.list_review_threads(REPO, 1)
    assert thread.root_comment_id == root and not thread.is_resolved
    await api.resolve_review_thread(REPO, thread.id)
    [thread] = await api.list_review_threads(REPO, 1)
    assert thread.is_resolved and fake.thread_resolved("octo", "repo", 1, root)
    mutations = [
        r for r in fake.requests if r.path == "/graphql" and "resolveReviewThread" in r.json["query"]
    ]
    assert len(mutations) == 1


async def test_graphql_errors_and_other_installations_threads_fail_clearly(
    fake: FakeGitHub, client: GitHubAppClient
) -> None:
    api = await client.for_installation(5)
    with pytest.raises(GitHubPermanentError, match="GraphQL error"):
        await api.resolve_review_thread(REPO, thread_id("octo", "repo", 1, 999_999))
    other = await client.for_installation(6)
    await other.create_review(
        OTHER, 1, commit_id=HEAD, body="r", comments=[{"path": "a.py", "line": 2, "body": "c"}]
    )
    [foreign] = await other.list_review_threads(OTHER, 1)
    with pytest.raises(GitHubPermanentError):  # installation 5's token cannot see octo/secret
        await api.resolve_review_thread(REPO, foreign.id)
    assert not fake.thread_resolved("octo", "secret", 1, foreign.root_comment_id or 0)


def test_graphql_lives_beside_rest_or_under_api_on_ghes() -> None:
    assert graphql_url("https://api.github.com") == "/graphql"
    assert graphql_url("https://ghe.example.com/api/v3/") == "https://ghe.example.com/api/graphql"

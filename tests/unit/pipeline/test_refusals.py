"""Replies to people without write access: one per PR and person, then silence."""

from __future__ import annotations

from app.github.models import PostedText
from app.jobs.models import CommandJob, ReviewJob
from app.pipeline.commands import NOT_ALLOWED, handle_command, refusal_marker
from tests.fakes.ports import BOT, MemoryGitHub, MemoryStore
from tests.unit.pipeline.builders import CONFIG, REPO, added_file, pull, settings, source


def github() -> MemoryGitHub:
    gh = MemoryGitHub()
    gh.add_pull(pull(), [added_file("a.py", source(3))])
    return gh


async def command(
    gh: MemoryGitHub, author: str, body: str = "/mini review", comment_id: int = 1
) -> list[ReviewJob]:
    queued: list[ReviewJob] = []

    async def enqueue(job: ReviewJob) -> None:
        queued.append(job)

    job = CommandJob(repo=REPO, number=7, comment_id=comment_id, body=body, author=author)
    await handle_command(
        job, api=gh, store=MemoryStore(), settings=settings(), enqueue_review=enqueue, bot_login=BOT
    )
    return queued


def refusals(gh: MemoryGitHub) -> list[str]:
    return [t.body for t in gh.pulls[7].issue_comments if NOT_ALLOWED in t.body]


async def test_a_flood_of_commands_gets_one_refusal_per_person() -> None:
    gh = github()
    for i in range(20):
        assert await command(gh, "mallory", comment_id=i) == []
    assert len(refusals(gh)) == 1
    await command(gh, "trudy")
    await command(gh, "TRUDY", "/mini full-review")
    assert len(refusals(gh)) == 2
    assert gh.reactions == []


async def test_a_planted_refusal_marker_does_not_silence_anyone() -> None:
    gh = github()
    gh.pulls[7].issue_comments.append(PostedText(body=refusal_marker("mallory"), user_login="mallory"))
    await command(gh, "mallory")
    assert len(refusals(gh)) == 1


async def test_writers_are_never_silenced() -> None:
    gh = github()
    gh.permissions["maintainer"] = "write"
    await command(gh, "mallory")
    for i in range(3):
        assert len(await command(gh, "maintainer", comment_id=10 + i)) == 1


ORG_SECRET = "instructions: 'Internal: our payment vendor is Acme Pay, see go/acme-pay'\n"


def config_reply(gh: MemoryGitHub) -> str:
    [reply] = [t.body for t in gh.pulls[7].issue_comments if "configuration" in t.body]
    return reply


async def test_config_from_a_private_org_repo_is_not_shown_in_a_public_prs_reply() -> None:
    gh = github()
    gh.permissions["maintainer"] = "write"
    gh.set_file(CONFIG, None, ORG_SECRET)  # the org's .github repository, default branch
    gh.private_repos.add("acme/.github")
    await command(gh, "maintainer", "/mini config")
    reply = config_reply(gh)
    assert "Acme Pay" not in reply and "is private" in reply and "org .github repo" in reply


async def test_config_is_shown_when_the_org_repo_is_public_or_the_pr_private() -> None:
    gh = github()
    gh.permissions["maintainer"] = "write"
    gh.set_file(CONFIG, None, ORG_SECRET)
    await command(gh, "maintainer", "/mini config")
    assert "Acme Pay" in config_reply(gh)

    private = github()
    private.pulls[7].info = pull().model_copy(update={"repo_private": True})
    private.permissions["maintainer"] = "write"
    private.set_file(CONFIG, None, ORG_SECRET)
    private.private_repos.add("acme/.github")
    await command(private, "maintainer", "/mini config")
    assert "Acme Pay" in config_reply(private)

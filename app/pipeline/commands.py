"""Slash commands: check who asked, acknowledge, and act (enqueue a review, pause, reply)."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from app.commands.parse import Command, CommandName, UnknownCommand, help_text, parse_commands
from app.commands.permissions import association_decision, is_bot, permission_allows
from app.config.repo_config import render_config
from app.errors import GitHubPermanentError
from app.github.models import RepoRef
from app.jobs.models import CommandJob, ReviewJob
from app.pipeline.ports import GitHubPort, PullStateStore
from app.pipeline.repo_settings import load_repo_config, server_defaults
from app.publish.markdown import not_understood
from app.settings import Settings

log = logging.getLogger(__name__)

NOT_ALLOWED = (
    "Only people with write access to this repository can run mini-review commands. "
    "Ask a maintainer to comment `/mini review` if you would like a review."
)

EnqueueReview = Callable[[ReviewJob], Awaitable[None]]


async def _may_command(api: GitHubPort, repo: RepoRef, job: CommandJob) -> bool:
    if association_decision(job.author_association) == "allow":
        return True
    try:
        return permission_allows(await api.get_permission(repo, job.author))
    except GitHubPermanentError:
        return False  # not a collaborator at all


def refusal_marker(login: str) -> str:
    """The hidden line that records, on the PR itself, that `login` was already told no."""
    return f"<!-- mini-review:refused={login.lower()} -->"


async def _already_refused(api: GitHubPort, repo: RepoRef, job: CommandJob, bot_login: str) -> bool:
    marker = refusal_marker(job.author)
    own = bot_login.lower()
    texts = await api.list_issue_comment_texts(repo, job.number)
    return any(t.user_login.lower() == own and marker in t.body for t in texts)


async def _refuse(api: GitHubPort, repo: RepoRef, job: CommandJob, bot_login: str) -> None:
    """Tell a non-writer once per PR; after that, silence (a comment flood must not spend our writes)."""
    where = f"{repo.full_name}#{job.number}"
    if await _already_refused(api, repo, job, bot_login):
        log.info(
            "command on %s by %s refused: no write access (already told, not replying)", where, job.author
        )
        return
    log.info("command on %s by %s refused: no write access", where, job.author)
    await api.create_issue_comment(repo, job.number, f"{NOT_ALLOWED}\n\n{refusal_marker(job.author)}")


async def handle_command(
    job: CommandJob,
    *,
    api: GitHubPort,
    store: PullStateStore,
    settings: Settings,
    enqueue_review: EnqueueReview,
    bot_login: str,
) -> None:
    repo = job.repo
    commands = parse_commands(job.body)
    if not commands or is_bot(job.author, job.author_type):
        return
    if not await _may_command(api, repo, job):
        await _refuse(api, repo, job, bot_login)
        return
    valid = [c for c in commands if isinstance(c, Command)]
    if valid:
        await api.add_reaction(repo, job.comment_id, "eyes")
    for command in commands:
        if isinstance(command, UnknownCommand):
            reply = f"{not_understood(command.text, command.reason)}\n\n{help_text()}"
            await api.create_issue_comment(repo, job.number, reply)
            continue
        await _run(command, job, repo, api=api, store=store, settings=settings, enqueue_review=enqueue_review)


async def _run(
    command: Command,
    job: CommandJob,
    repo: RepoRef,
    *,
    api: GitHubPort,
    store: PullStateStore,
    settings: Settings,
    enqueue_review: EnqueueReview,
) -> None:
    name = command.name
    if name in (CommandName.REVIEW, CommandName.FULL_REVIEW):
        pr = await api.get_pull(repo, job.number)
        await enqueue_review(
            ReviewJob(
                repo=job.repo,
                number=job.number,
                head_sha=pr.head_sha,
                trigger=f"command:{name.value}",
                full=name is CommandName.FULL_REVIEW,
                only=sorted(c.value for c in command.only) if command.only else None,
                requested_by=job.author,
            )
        )
    elif name is CommandName.PAUSE:
        await store.set_paused(repo.full_name, job.number, True)
        await api.create_issue_comment(
            repo,
            job.number,
            "Automatic reviews are paused on this pull request. `/mini resume` restarts them.",
        )
    elif name is CommandName.RESUME:
        await store.set_paused(repo.full_name, job.number, False)
        await api.create_issue_comment(
            repo, job.number, "Automatic reviews are back on for this pull request."
        )
    elif name is CommandName.CONFIG:
        pr = await api.get_pull(repo, job.number)
        result = await load_repo_config(api, repo, pr.base_ref, server_defaults(settings))
        heading = f"Effective mini-review configuration (base branch `{pr.base_ref}`):"
        rendered = render_config(result.config, sources=result.sources, errors=result.errors)
        text = f"{heading}\n\n{rendered}"
        await api.create_issue_comment(repo, job.number, text)
    else:
        await api.create_issue_comment(repo, job.number, help_text())

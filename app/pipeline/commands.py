"""Slash commands: check who asked, acknowledge, and act (enqueue a review, pause, reply)."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from app.commands.parse import Command, CommandName, UnknownCommand, help_text, parse_commands
from app.commands.permissions import association_decision, is_bot, permission_allows
from app.config.repo_config import CONFIG_PATH, ORG_SOURCE, render_config
from app.conversation.ask import Question
from app.conversation.ports import StructuredModel
from app.conversation.service import IGNORE_HINT, answer_question, learnings_reply
from app.conversation.store import ConversationStore
from app.diff.filters import skip_reason
from app.errors import GitHubError, GitHubPermanentError
from app.github.models import PullRequestInfo, RepoRef
from app.jobs.models import CommandJob, ReviewJob
from app.pipeline.files import load_pull_diff
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


async def _pr_author_asking(
    api: GitHubPort, job: CommandJob, commands: list[Command | UnknownCommand]
) -> bool:
    """The PR's author may `/mini ask` without write access (and only ask)."""
    if not commands or not all(isinstance(c, Command) and c.name is CommandName.ASK for c in commands):
        return False
    return (await api.get_pull(job.repo, job.number)).author_login == job.author


async def handle_command(
    job: CommandJob,
    *,
    api: GitHubPort,
    store: PullStateStore,
    settings: Settings,
    enqueue_review: EnqueueReview,
    bot_login: str,
    model: StructuredModel | None = None,
    conversation: ConversationStore | None = None,
) -> None:
    repo = job.repo
    commands = parse_commands(job.body)
    if not commands or is_bot(job.author, job.author_type):
        return
    if not await _may_command(api, repo, job) and not await _pr_author_asking(api, job, commands):
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
        if command.name in _CONVERSATION:
            await _converse(command, job, api=api, conversation=conversation, settings=settings, model=model)
            continue
        await _run(command, job, repo, api=api, store=store, settings=settings, enqueue_review=enqueue_review)


_CONVERSATION = frozenset({CommandName.ASK, CommandName.LEARNINGS, CommandName.IGNORE})


async def _converse(
    command: Command,
    job: CommandJob,
    *,
    api: GitHubPort,
    conversation: ConversationStore | None,
    settings: Settings,
    model: StructuredModel | None,
) -> None:
    """`/mini ask`, `/mini learnings` and `/mini ignore` in the PR conversation."""
    repo = job.repo
    if command.name is CommandName.IGNORE:
        await api.create_issue_comment(repo, job.number, IGNORE_HINT)
    if conversation is None:
        return
    if command.name is CommandName.LEARNINGS:
        learned = await conversation.list_learnings(repo.full_name)
        await api.create_issue_comment(repo, job.number, learnings_reply(repo.full_name, learned))
    elif command.name is CommandName.ASK and model is not None and command.text:
        pr = await api.get_pull(repo, job.number)
        files = await _ask_files(api, repo, pr, settings)
        question = Question(
            repo=repo, number=job.number, comment_id=job.comment_id, author=job.author, text=command.text
        )
        outcome = await answer_question(
            question, pr, files, api=api, store=conversation, model=model, settings=settings
        )
        log.info("ask on %s#%s by %s: %s", repo.full_name, job.number, job.author, outcome)


async def _ask_files(
    api: GitHubPort, repo: RepoRef, pr: PullRequestInfo, settings: Settings
) -> list[tuple[str, str]]:
    """The PR's patches the repository lets the model see (the same filters as a review)."""
    config = await load_repo_config(api, repo, pr.base_ref, server_defaults(settings))
    diff = await load_pull_diff(api, repo, pr, last_reviewed_head=None)
    rules = diff.filter_rules(config.config)
    raw = {f.filename: f.patch for f in await api.list_pull_files(repo, pr.number)}
    return [
        (path, raw.get(path) or "")
        for path, file in diff.pr_files.items()
        if skip_reason(file, rules) is None and raw.get(path)
    ]


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
        await api.create_issue_comment(repo, job.number, await _config_reply(api, repo, job, settings))
    else:
        await api.create_issue_comment(repo, job.number, help_text())


async def _private_org_layer(api: GitHubPort, repo: RepoRef, pr_private: bool, layers: list[str]) -> bool:
    """Tell whether the org's `.github` layer was read, is private, and this PR is public."""
    if pr_private or ORG_SOURCE not in layers:
        return False
    org = RepoRef(owner=repo.owner, name=".github", installation_id=repo.installation_id)
    try:
        return await api.repo_is_private(org)
    except GitHubError:
        return True  # unknown visibility: treat it as private


async def _config_reply(api: GitHubPort, repo: RepoRef, job: CommandJob, settings: Settings) -> str:
    pr = await api.get_pull(repo, job.number)
    result = await load_repo_config(api, repo, pr.base_ref, server_defaults(settings))
    heading = f"Effective mini-review configuration (base branch `{pr.base_ref}`):"
    if await _private_org_layer(api, repo, pr.repo_private, result.sources + result.ignored):
        # Its values (and the errors quoting them) would leak a private repository into a public PR.
        layers = " \u2192 ".join(result.sources)
        return (
            f"{heading}\n\nLayers, lowest first: {layers}.\n\nThe organisation's `.github` repository is "
            "private, so the settings in effect are not shown in this public repository. Maintainers can "
            f"read `{CONFIG_PATH}` there and in this repository's base branch."
        )
    rendered = render_config(result.config, sources=result.sources, errors=result.errors)
    return f"{heading}\n\n{rendered}"

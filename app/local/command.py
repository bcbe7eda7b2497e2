"""`mini-review review`: review a local branch, the index, the work tree or a diff file.

Exit codes: 0 no finding at or above --fail-on; 1 findings at or above it; 2 usage or configuration
error (one line on stderr); 3 the review could not complete (model unreachable, a chunk failed),
with what was reviewed still printed.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from app.config.repo_config import CONFIG_PATH, RepoConfig, effective_config
from app.errors import ConfigError, PermanentError
from app.local.engine import LocalReport, ReviewInput, review_diff
from app.local.formats.json_report import json_schema, render_json
from app.local.formats.sarif import render_sarif
from app.local.formats.text import render_text
from app.local.formats.workflow import render_workflow_commands
from app.local.git import DiffRequest, DiffScope, GitRepo
from app.local.progress import CountingModelClient, ProgressBar
from app.pipeline.repo_settings import server_defaults
from app.review.factory import build_model_client, build_openai_client, reviewer_config
from app.review.findings import Category, Severity
from app.settings import ModelSettings, load_model_settings

EXIT_OK, EXIT_FINDINGS, EXIT_USAGE, EXIT_INCOMPLETE = 0, 1, 2, 3
FORMATS = ("text", "json", "sarif", "github")


class UsageError(PermanentError):
    """The command line asks for something impossible."""


def add_review_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("review", help="review a local branch or diff (needs only OPENAI_API_KEY)")
    p.add_argument("--repo", type=Path, default=Path("."), help="repository path (default: here)")
    p.add_argument("--base", help="base ref (default: the default branch)")
    head = p.add_mutually_exclusive_group()
    head.add_argument("--head", help="head ref (default: HEAD)")
    head.add_argument("--staged", action="store_true", help="review the index against HEAD")
    head.add_argument("--worktree", action="store_true", help="review uncommitted changes against HEAD")
    p.add_argument("--diff", help="review this unified diff file instead ('-' for stdin)")
    p.add_argument("--only", help="only these categories, e.g. risk,test")
    p.add_argument("--format", choices=FORMATS, default="text")
    p.add_argument("--output", type=Path, help="write the report here instead of stdout")
    p.add_argument("--fail-on", choices=[s.value for s in Severity], help="exit 1 on findings this severe")
    p.add_argument("--config", type=Path, help="use this mini-review.yml instead of the base's")
    p.add_argument(
        "--post-review", action="store_true", help="GitHub Action: post a review on the event's PR"
    )
    p.add_argument("--json-schema", action="store_true", help="print the JSON report's schema and exit")


@dataclass(frozen=True)
class Target:
    """What to review, resolved from the command line."""

    diff: bytes
    base: str | None
    head: str | None
    config_text: str | None
    config_source: str
    gitattributes: str = ""


def parse_only(value: str | None) -> frozenset[Category] | None:
    if value is None:
        return None
    names = [part.strip() for part in value.split(",") if part.strip()]
    try:
        return frozenset(Category(name) for name in names)
    except ValueError:
        known = ", ".join(c.value for c in Category)
        raise UsageError(f"--only takes a comma-separated list of {known}") from None


def _read_diff_file(name: str) -> bytes:
    if name == "-":
        return sys.stdin.buffer.read()
    try:
        return Path(name).read_bytes()
    except OSError as exc:
        raise UsageError(f"--diff: cannot read {name} ({exc.strerror})") from None


def _read_config_file(path: Path) -> str:
    try:
        return path.read_text("utf-8", errors="replace")
    except OSError as exc:
        raise UsageError(f"--config: cannot read {path} ({exc.strerror})") from None


def _git_target(args: argparse.Namespace, event_refs: tuple[str, str] | None) -> Target:
    repo = GitRepo(args.repo)
    repo.check()
    if args.staged or args.worktree:
        scope = DiffScope.STAGED if args.staged else DiffScope.WORKTREE
        request = DiffRequest(scope)
        base = head = repo.resolve("HEAD")
        config_ref = "HEAD"
    else:
        base_ref = args.base or (event_refs[0] if event_refs else repo.default_branch())
        head_ref = args.head or (event_refs[1] if event_refs else "HEAD")
        base, head = repo.resolve(base_ref), repo.resolve(head_ref)
        request = DiffRequest(DiffScope.COMMITS, base=base, head=head)
        config_ref = base  # like the App: the base's config, so a branch cannot loosen its own review
    config = repo.show(config_ref, CONFIG_PATH)
    attributes = repo.show(config_ref, ".gitattributes") or b""
    return Target(
        diff=repo.diff(request),
        base=base,
        head=head if request.scope is DiffScope.COMMITS else None,
        config_text=None if config is None else config.decode("utf-8", "replace"),
        config_source=f"{CONFIG_PATH} at {config_ref[:12]}",
        gitattributes=attributes.decode("utf-8", "replace"),
    )


def resolve_target(args: argparse.Namespace, event_refs: tuple[str, str] | None = None) -> Target:
    if args.diff is not None:
        if args.base or args.head or args.staged or args.worktree:
            raise UsageError("--diff cannot be combined with --base, --head, --staged or --worktree")
        target = Target(_read_diff_file(args.diff), None, None, None, "")
    else:
        target = _git_target(args, event_refs)
    if args.config is not None:
        text = _read_config_file(args.config)
        target = Target(target.diff, target.base, target.head, text, str(args.config), target.gitattributes)
    return target


def load_config(settings: ModelSettings, target: Target) -> RepoConfig:
    result = effective_config(
        server_defaults(settings), None, target.config_text, repo_source=target.config_source
    )
    if result.errors:
        raise ConfigError("configuration error: " + "; ".join(" ".join(e.split()) for e in result.errors))
    return result.config


def render(report: LocalReport, fmt: str, target: Target, *, colour: bool) -> str:
    if fmt == "json":
        return render_json(report, base=target.base, head=target.head)
    if fmt == "sarif":
        return render_sarif(report)
    if fmt == "github":
        return render_workflow_commands(report)
    return render_text(report, colour=colour)


def exit_code(report: LocalReport, fail_on: Severity | None) -> int:
    if report.failed:
        return EXIT_INCOMPLETE
    if fail_on is not None and any(f.finding.severity.rank >= fail_on.rank for f in report.findings):
        return EXIT_FINDINGS
    return EXIT_OK


async def run_review(
    settings: ModelSettings, request: ReviewInput, progress: ProgressBar, cache_key: str | None
) -> LocalReport:
    openai_client = build_openai_client(settings)
    model = build_model_client(
        settings, openai_client, prompt_cache_key=cache_key, client_class=CountingModelClient
    )
    assert isinstance(model, CountingModelClient)
    model.on_review_done = progress
    try:
        return await review_diff(request, model, reviewer_config(settings), on_planned=progress.start)
    finally:
        progress.finish()
        await openai_client.close()


def _write(text: str, output: Path | None, stdout: TextIO) -> None:
    if output is None:
        stdout.write(text)
        stdout.flush()
        return
    try:
        output.write_text(text, "utf-8")
    except OSError as exc:
        raise UsageError(f"--output: cannot write {output} ({exc.strerror})") from None


def review_command(args: argparse.Namespace, stdout: TextIO = sys.stdout, stderr: TextIO = sys.stderr) -> int:
    """Run `mini-review review`; return the exit code."""
    if args.json_schema:
        stdout.write(json_schema())
        return EXIT_OK
    try:
        return _review(args, stdout, stderr)
    except (PermanentError, ValueError) as exc:  # ValueError: a diff that cannot be parsed
        message = str(exc).removeprefix("configuration error: ")
        stderr.write(f"mini-review: {' '.join(message.split())}\n")
        return EXIT_USAGE


def _review(args: argparse.Namespace, stdout: TextIO, stderr: TextIO) -> int:
    only = parse_only(args.only)
    settings = load_model_settings()
    action = None
    if args.post_review:
        from app.local.action import ActionContext

        action = ActionContext.from_environment()
    target = resolve_target(args, action.refs if action else None)
    config = load_config(settings, target)
    request = ReviewInput(
        diff=target.diff,
        config=config,
        gitattributes=target.gitattributes,
        only=only,
        title=action.title if action else "",
        description=action.description if action else "",
        chunk_tokens=settings.chunk_tokens,
        max_chunks=settings.max_chunks_per_pr,
        max_tokens=settings.max_input_tokens_per_pr,
    )
    cache_key = f"mini-review:{action.repo_full_name}" if action else None
    report = asyncio.run(run_review(settings, request, ProgressBar(stderr), cache_key))
    colour = args.output is None and stdout.isatty() and "NO_COLOR" not in os.environ
    _write(render(report, args.format, target, colour=colour), args.output, stdout)
    if action is not None:
        stderr.write(asyncio.run(action.post(report, config)) + "\n")
    fail_on = Severity(args.fail_on) if args.fail_on else None
    return exit_code(report, fail_on)

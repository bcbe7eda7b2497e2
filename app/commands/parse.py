"""Find `/mini ...` slash commands in a pull request conversation comment.

Grammar (case-insensitive words)::

    /mini                         -> help
    /mini review [--only CATS]    -> review now, incrementally
    /mini full-review [--only CATS]
    /mini pause | resume | config | help
    /mini ask QUESTION            -> answer a question about the PR (QUESTION: the rest of the line)
    /mini learnings               -> list what mini-review learned in this repository
    /mini ignore                  -> (as a reply in one of our review threads) never raise this again

CATS is a comma (and/or space) separated list of categories: lint, test, risk. `--only=CATS` works too.

Where a command counts: it must START a line (at most 3 leading spaces, no tab), and `/mini` must be
followed by whitespace or the end of the line, so `/minimal` or `/mini-review` is plain text. Lines are
ignored when they are:
- quoted: the line begins with `>` (after indentation and list markers);
- inside a fenced code block (``` or ~~~, any length >= 3, info string allowed, indented or after a list
  marker); a fence that is never closed hides everything after it, as it does in Markdown;
- inside an HTML comment block (`<!--` at the start of a line up to the line holding `-->`);
- inside an inline code span or inline HTML comment that spans several lines of one paragraph.
A line that does not begin with `>` is treated as top level even right after a quote: people type the
command under a quote they reply to, and that is what they mean (Markdown would render it lazily quoted).

Precedence when one comment holds several commands (the result keeps the order of appearance):
- exact duplicates keep only the first;
- `review` and `full-review` merge into ONE review at the place of the first of them: it is `full-review`
  if any was; its categories are the union of the `--only` sets, or all categories if any had none;
- `pause` and `resume`: only the LAST of them counts (it is the state the author ended with);
- `config` and `help` appear at most once;
- unknown commands are kept (deduplicated) so the reply can explain each.
The caller runs the result in order; an explicit review runs even when the PR is paused.

Hand-written: the grammar is a few words and one option. argparse would read prose as arguments and
exits on a bad one; shlex fails on the unbalanced quotes ordinary comments contain.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from enum import StrEnum

from app.product import COMMAND_PREFIX
from app.review.findings import Category


class CommandName(StrEnum):
    REVIEW = "review"
    FULL_REVIEW = "full-review"
    PAUSE = "pause"
    RESUME = "resume"
    CONFIG = "config"
    HELP = "help"
    ASK = "ask"
    LEARNINGS = "learnings"
    IGNORE = "ignore"


@dataclass(frozen=True)
class Command:
    """A valid command; `only` limits a review to categories (None = all); `text` is an ask's question."""

    name: CommandName
    only: frozenset[Category] | None = None
    text: str | None = None


@dataclass(frozen=True)
class UnknownCommand:
    """A `/mini` line that could not be understood; `reason` is shown to the author."""

    text: str
    reason: str


ParsedCommand = Command | UnknownCommand

PREFIX = COMMAND_PREFIX
_REVIEWS = frozenset({CommandName.REVIEW, CommandName.FULL_REVIEW})
_TOGGLES = frozenset({CommandName.PAUSE, CommandName.RESUME})
_CATEGORY_VALUES = frozenset(c.value for c in Category)
_CATEGORY_NAMES = ", ".join(c.value for c in Category)
_MAX_TEXT = 200  # UnknownCommand.text is echoed in replies; keep it short
_MAX_WORD = 40
MAX_QUESTION = 2000  # an ask's question is model input: keep it bounded

# The command line: up to 3 spaces, `/mini`, then whitespace or end of line.
_COMMAND_LINE = re.compile(rf"^ {{0,3}}{re.escape(PREFIX)}(?=\s|$)(?P<rest>.*)$", re.IGNORECASE)
# List markers a fence or quote may follow inside a list item: `-`, `*`, `+`, `1.`, `1)`.
_LIST_MARKER = re.compile(r"(?:[-*+]|\d{1,9}[.)])(?: +|$)")
_FENCE_OPEN = re.compile(r"(?P<fence>`{3,}|~{3,})(?P<info>.*)$")
_ESCAPABLE = frozenset("!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~")


@dataclass
class _Fence:
    char: str
    length: int
    column: int


def parse_commands(comment_body: str) -> list[ParsedCommand]:
    """Return the commands in a comment body, in order, after the precedence rules above."""
    found = [_parse_line(line) for line in _top_level_lines(comment_body) if _COMMAND_LINE.match(line)]
    return _normalise(found)


def help_text() -> str:
    """Return the markdown help listing every command."""
    return (
        "**mini-review commands** (write them at the start of a line in a PR comment):\n"
        "\n"
        "| Command | What it does |\n"
        "|---|---|\n"
        "| `/mini review` | Review now, only what changed since the last review |\n"
        "| `/mini full-review` | Review the whole pull request again, ignoring earlier reviews |\n"
        f"| `/mini review --only risk,test` | Limit a review to some categories ({_CATEGORY_NAMES});"
        " also works with `full-review` |\n"
        "| `/mini pause` | Stop automatic reviews on this pull request |\n"
        "| `/mini resume` | Start automatic reviews again |\n"
        "| `/mini config` | Show the configuration in effect for this pull request |\n"
        "| `/mini ask <question>` | Ask a question about this pull request; the answer comes as a comment |\n"
        "| `/mini learnings` | List what mini-review has learned from feedback in this repository |\n"
        "| `/mini ignore` | As a reply in a mini-review thread: never raise that kind of finding again |\n"
        "| `/mini help` | Show this help |\n"
        "\n"
        "Commands inside quotes or code blocks are ignored. Only people with write access (and, for `ask`,"
        " the pull request's author) can run them.\n"
    )


# --- finding the lines that can hold a command -------------------------------------------------------


def _top_level_lines(body: str) -> list[str]:
    """Return the lines that start outside code, quotes and HTML comments."""
    lines = body.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    result: list[str] = []
    paragraph: list[str] = []
    fence: _Fence | None = None
    in_html_comment = False

    def flush() -> None:
        result.extend(_visible_line_starts(paragraph))
        paragraph.clear()

    for line in lines:
        if fence is not None:
            if _closes(fence, line):
                fence = None
            continue
        if in_html_comment:
            in_html_comment = "-->" not in line
            continue
        if not line.strip():
            flush()
            continue
        indent = _indent_width(line)
        inner, inner_column = _strip_container_markers(line)
        opened = _FENCE_OPEN.match(inner)
        # A backtick fence's info string may not hold a backtick (CommonMark); such a line is inline code.
        if opened and not (opened["fence"][0] == "`" and "`" in opened["info"]):
            flush()
            fence = _Fence(opened["fence"][0], len(opened["fence"]), inner_column)
            continue
        if inner.startswith(">"):
            # Skipped without ending the paragraph: a code span that seems to cross it hides more, never less.
            continue
        if indent <= 3 and line.lstrip(" ").startswith("<!--"):
            flush()
            in_html_comment = "-->" not in line.lstrip(" ")[4:]
            continue
        paragraph.append(line)
    flush()
    return result


def _indent_width(line: str) -> int:
    """Return the column of the first non-blank character (tabs stop every 4 columns)."""
    column = 0
    for char in line:
        if char == " ":
            column += 1
        elif char == "\t":
            column += 4 - column % 4
        else:
            break
    return column


def _strip_container_markers(line: str) -> tuple[str, int]:
    """Drop indentation and list markers; return the rest and the column where it starts."""
    rest = line.lstrip(" \t")
    column = _indent_width(line)
    while match := _LIST_MARKER.match(rest):
        column += match.end()
        rest = rest[match.end() :]
    return rest, column


def _closes(fence: _Fence, line: str) -> bool:
    """Return True when `line` closes `fence` (same character, at least as long, nothing after)."""
    # CommonMark lets a closing fence be indented up to 3 columns past its container;
    # deeper lines are code content and must not end the block early.
    if _indent_width(line) > fence.column + 3 and _indent_width(line) > 3:
        return False
    stripped = line.strip(" \t")
    run = len(stripped) - len(stripped.lstrip(fence.char))
    return run >= fence.length and not stripped[run:].strip()


def _visible_line_starts(paragraph: list[str]) -> list[str]:
    """Return the lines of a paragraph whose first character is not inside a code span or comment."""
    text = "\n".join(paragraph)
    hidden = _hidden_spans(text)
    visible: list[str] = []
    offset = 0
    for line in paragraph:
        start = offset + len(line) - len(line.lstrip(" \t"))
        if not any(lo < start < hi for lo, hi in hidden):
            visible.append(line)
        offset += len(line) + 1
    return visible


def _hidden_spans(text: str) -> list[tuple[int, int]]:
    """Return [start, end) ranges of inline code spans and inline HTML comments."""
    spans: list[tuple[int, int]] = []
    i = 0
    while i < len(text):
        char = text[i]
        if char == "\\" and i + 1 < len(text) and text[i + 1] in _ESCAPABLE:
            i += 2
        elif char == "`":
            run = _run_length(text, i, "`")
            close = _find_backtick_run(text, i + run, run)
            if close is None:
                i += run  # an unmatched run is literal text
            else:
                spans.append((i, close + run))
                i = close + run
        elif text.startswith("<!--", i):
            end = text.find("-->", i + 4)
            if end == -1:
                i += 4
            else:
                spans.append((i, end + 3))
                i = end + 3
        else:
            i += 1
    return spans


def _run_length(text: str, start: int, char: str) -> int:
    end = start
    while end < len(text) and text[end] == char:
        end += 1
    return end - start


def _find_backtick_run(text: str, start: int, length: int) -> int | None:
    """Return where the next backtick run of exactly `length` starts, or None."""
    i = text.find("`", start)
    while i != -1:
        run = _run_length(text, i, "`")
        if run == length:
            return i
        i = text.find("`", i + run)
    return None


# --- understanding one command line ------------------------------------------------------------------


def _parse_line(line: str) -> ParsedCommand:
    """Turn one line that starts with `/mini` into a Command or an UnknownCommand."""
    text = _shorten(line.strip(), _MAX_TEXT)
    match = _COMMAND_LINE.match(line)
    assert match is not None  # the caller only passes matching lines
    words = match["rest"].split()
    if not words:
        return Command(CommandName.HELP)
    word = words[0].lower()
    try:
        name = CommandName(word)
    except ValueError:
        return UnknownCommand(text, _unknown_word_reason(word))
    args = words[1:]
    if name is CommandName.ASK:
        question = match["rest"].strip()[len(words[0]) :].strip()
        if not question:
            return UnknownCommand(text, f"`ask` needs a question on the same line: `{PREFIX} ask why ...?`")
        return Command(name, text=_shorten(question, MAX_QUESTION))
    if name not in _REVIEWS:
        if args:
            return UnknownCommand(text, f"`{name}` takes no options (got {_code(' '.join(args))})")
        return Command(name)
    return _parse_review_options(text, name, args)


def _unknown_word_reason(word: str) -> str:
    names = [c.value for c in CommandName]
    close = difflib.get_close_matches(word, names, n=1, cutoff=0.6)
    hint = f"; did you mean `{PREFIX} {close[0]}`?" if close else f"; try `{PREFIX} help`"
    return f"unknown command {_code(word)}{hint}"


def _parse_review_options(text: str, name: CommandName, args: list[str]) -> ParsedCommand:
    """Parse `--only CATS` (or `--only=CATS`) after review/full-review."""
    only: set[Category] | None = None
    i = 0
    while i < len(args):
        arg = args[i]
        lowered = arg.lower()
        if lowered == "--only" or lowered.startswith("--only="):
            values = [lowered.partition("=")[2]] if "=" in lowered else []
            i += 1
            while i < len(args) and not args[i].startswith("--"):
                values.append(args[i].lower())
                i += 1
            parts = [part for value in values for part in value.split(",") if part]
            if not parts:
                return UnknownCommand(text, f"`--only` needs one or more categories: {_CATEGORY_NAMES}")
            wrong = [part for part in parts if part not in _CATEGORY_VALUES]
            if wrong:
                return UnknownCommand(
                    text, f"unknown category {_code(wrong[0])} in `--only`; use {_CATEGORY_NAMES}"
                )
            only = (only or set()) | {Category(part) for part in parts}
        elif arg.startswith("--"):
            return UnknownCommand(
                text, f"unknown option {_code(arg)}; `{name}` accepts `--only {_CATEGORY_NAMES}`"
            )
        else:
            return UnknownCommand(text, f"unexpected {_code(arg)} after `{PREFIX} {name}`")
    return Command(name, frozenset(only) if only is not None else None)


def _shorten(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "\u2026"


def _code(text: str) -> str:
    """Render user text as one inline code span it cannot break out of (so `@team` never pings)."""
    text = _shorten(text, _MAX_WORD)
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    fence = "`" * (longest + 1)
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{fence}{pad}{text}{pad}{fence}"


# --- precedence -------------------------------------------------------------------------------------


def _normalise(found: list[ParsedCommand]) -> list[ParsedCommand]:
    """Apply the documented precedence: one review, last pause/resume, no duplicates."""
    reviews = [c for c in found if isinstance(c, Command) and c.name in _REVIEWS]
    toggles = [c for c in found if isinstance(c, Command) and c.name in _TOGGLES]
    merged_review = _merge_reviews(reviews) if reviews else None
    result: list[ParsedCommand] = []
    seen: set[ParsedCommand] = set()
    for item in found:
        if isinstance(item, Command) and item.name in _REVIEWS:
            if item is not reviews[0]:
                continue
            assert merged_review is not None
            item = merged_review
        elif isinstance(item, Command) and item.name in _TOGGLES and item is not toggles[-1]:
            continue
        if item in seen:
            continue
        seen.add(item)
        result.append(item)
    return result


def _merge_reviews(reviews: list[Command]) -> Command:
    """Merge several review requests into the one review that satisfies them all."""
    full = any(c.name is CommandName.FULL_REVIEW for c in reviews)
    only: frozenset[Category] | None = frozenset()
    for command in reviews:
        only = None if only is None or command.only is None else only | command.only
    return Command(CommandName.FULL_REVIEW if full else CommandName.REVIEW, only)

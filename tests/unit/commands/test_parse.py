"""Slash-command parsing: where a command counts, what it means, and the precedence rules."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.commands.parse import Command, CommandName, UnknownCommand, help_text, parse_commands
from app.review.findings import Category
from tests.conftest import corpus_webhook_files, webhook_payload

REVIEW = Command(CommandName.REVIEW)
FULL = Command(CommandName.FULL_REVIEW)
PAUSE = Command(CommandName.PAUSE)
RESUME = Command(CommandName.RESUME)
CONFIG = Command(CommandName.CONFIG)
HELP = Command(CommandName.HELP)


def only(*cats: Category) -> frozenset[Category]:
    return frozenset(cats)


# --- what each command means --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("/mini review", REVIEW),
        ("/mini full-review", FULL),
        ("/mini pause", PAUSE),
        ("/mini resume", RESUME),
        ("/mini config", CONFIG),
        ("/mini help", HELP),
        ("/mini", HELP),
        ("/mini   ", HELP),
        ("/MINI REVIEW", REVIEW),
        ("/Mini Full-Review", FULL),
        ("/mini\treview", REVIEW),
        ("   /mini review", REVIEW),
        ("/mini review --only risk,test", Command(CommandName.REVIEW, only(Category.RISK, Category.TEST))),
        ("/mini review --only=lint", Command(CommandName.REVIEW, only(Category.LINT))),
        ("/mini review --only risk, test", Command(CommandName.REVIEW, only(Category.RISK, Category.TEST))),
        ("/mini review --only RISK test", Command(CommandName.REVIEW, only(Category.RISK, Category.TEST))),
        (
            "/mini review --only risk --only lint",
            Command(CommandName.REVIEW, only(Category.RISK, Category.LINT)),
        ),
        ("/mini full-review --only test", Command(CommandName.FULL_REVIEW, only(Category.TEST))),
    ],
)
def test_valid_commands(body: str, expected: Command) -> None:
    assert parse_commands(body) == [expected]


@pytest.mark.parametrize(
    ("body", "reason_part"),
    [
        ("/mini reveiw", "did you mean `/mini review`"),
        ("/mini fullreview", "did you mean `/mini full-review`"),
        ("/mini deploy", "unknown command `deploy`; try `/mini help`"),
        ("/mini review --only foo", "unknown category `foo`"),
        ("/mini review --only", "`--only` needs one or more categories"),
        ("/mini review --only=", "`--only` needs one or more categories"),
        ("/mini review --fast", "unknown option `--fast`"),
        ("/mini review please", "unexpected `please`"),
        ("/mini pause now", "`pause` takes no options"),
        ("/mini config --only risk", "`config` takes no options"),
    ],
)
def test_unknown_commands_say_why(body: str, reason_part: str) -> None:
    [result] = parse_commands(body)
    assert isinstance(result, UnknownCommand)
    assert result.text == body.strip()
    assert reason_part in result.reason


def test_user_text_in_reason_cannot_escape_its_code_span() -> None:
    [result] = parse_commands("/mini x`@org/team")
    assert isinstance(result, UnknownCommand)
    # A double-backtick span keeps the single backtick (and the mention) inside the code.
    assert "``x`@org/team``" in result.reason


def test_long_unknown_text_is_shortened() -> None:
    [result] = parse_commands("/mini " + "x" * 5000)
    assert isinstance(result, UnknownCommand)
    assert len(result.text) <= 200
    assert len(result.reason) < 200


# --- where a command counts ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "body",
    [
        "/minimal",
        "/mini-review",
        "/mini:review",
        "please /mini review",
        "`/mini review`",
        "    /mini review",  # 4 spaces: an indented code block
        "\t/mini review",
        "- /mini review",
        "# /mini review",
        "> /mini review",
        ">/mini review",
        "> > /mini review",
        "  > /mini review",
        "- > /mini review",
        "```\n/mini review\n```",
        "~~~\n/mini review\n~~~",
        "```python\n/mini review\n```",
        "~~~ yaml title=x `ok`\n/mini review\n~~~",
        "````\n/mini review\n```\n/mini pause\n````",  # a shorter fence does not close a longer one
        "```\n/mini review\n~~~\n/mini pause\n```",  # a tilde fence does not close a backtick fence
        "   ```\n/mini review\n   ```",
        "```\n/mini review\n``` not a closer\n/mini pause\n```",
        "```\n/mini review\n    ```\n/mini pause\n```",  # a closer indented 4 is code content
        "- ```\n  /mini review\n  ```",
        "1. ```\n   /mini review\n   ```",
        "```\nunclosed fence hides the rest\n/mini review",
        "<!--\n/mini review\n-->",
        "<!-- hidden\n\n/mini review\n-->",
        "text `start of code\n/mini review` end",
        "text ``a ` b\n/mini review``",
        "text <!-- hidden\n/mini review -->",
    ],
)
def test_not_a_command(body: str) -> None:
    assert parse_commands(body) == []


@pytest.mark.parametrize(
    "body",
    [
        "Thanks!\n/mini review",
        "Thanks!\r\n/mini review\r\n",
        "Thanks!\r/mini review",
        "> quoted text\n/mini review",  # typed right under a quote: meant as a command
        "```\ncode\n```\n/mini review",
        "~~~~~\ncode\n~~~~~~~\n/mini review",  # a longer closer closes
        "```\ncode\n   ```   \n/mini review",
        "<!-- note -->\n/mini review",
        "<!--\nnote\n-->\n/mini review",
        "a `b` c\n/mini review",
        "an unmatched ` backtick\n/mini review",
        "an escaped \\`backtick\n/mini review\nand a lone ` here",
        "``` not a fence because of ` in the info\n/mini review",
        "- ```\n  code\n  ```\n/mini review",
        "`a\n\n/mini review\nb`",  # a blank line ends the paragraph, so no code span crosses it
    ],
)
def test_a_command(body: str) -> None:
    assert parse_commands(body) == [REVIEW]


# --- precedence ----------------------------------------------------------------------------------


def test_order_is_kept_and_duplicates_dropped() -> None:
    body = "/mini config\n/mini review\n/mini config\n/mini help\n/mini review\n/mini help"
    assert parse_commands(body) == [CONFIG, REVIEW, HELP]


def test_reviews_merge_into_one_full_review_at_the_first_place() -> None:
    body = "/mini help\n/mini review --only risk\n/mini config\n/mini full-review --only test"
    assert parse_commands(body) == [
        HELP,
        Command(CommandName.FULL_REVIEW, only(Category.RISK, Category.TEST)),
        CONFIG,
    ]


def test_a_review_without_only_widens_the_merged_review_to_everything() -> None:
    assert parse_commands("/mini review --only risk\n/mini review") == [REVIEW]


def test_last_of_pause_and_resume_wins() -> None:
    assert parse_commands("/mini pause\n/mini review\n/mini resume") == [REVIEW, RESUME]
    assert parse_commands("/mini resume\n/mini pause\n/mini resume\n/mini pause") == [PAUSE]


def test_unknown_commands_are_kept_in_order_without_duplicates() -> None:
    result = parse_commands("/mini nope\n/mini review\n/mini nope\n/mini other")
    assert [type(r) for r in result] == [UnknownCommand, Command, UnknownCommand]
    assert [getattr(r, "text", None) for r in result] == ["/mini nope", None, "/mini other"]


# --- help ----------------------------------------------------------------------------------------


def test_help_lists_every_command_and_does_not_trigger_itself() -> None:
    text = help_text()
    for name in CommandName:
        assert f"`/mini {name.value}" in text
    assert "--only" in text
    assert parse_commands(text) == []


# --- real payloads --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "path", [None, *corpus_webhook_files("issue_comment.*.json")], ids=lambda p: p.name if p else "factory"
)
def test_real_comment_bodies_hold_no_command(path: Path | None) -> None:
    if path is None:
        payload = webhook_payload("issue_comment.created.payload.json")
    else:
        payload = json.loads(path.read_bytes())
    assert parse_commands(payload["comment"]["body"]) == []


def test_real_comment_body_with_a_command_added() -> None:
    payload = webhook_payload("issue_comment.created.payload.json")
    # Modified in the test: the real example has no command in it.
    body = payload["comment"]["body"] + "\r\n\r\n/mini review --only risk\r\n"
    assert parse_commands(body) == [Command(CommandName.REVIEW, only(Category.RISK))]


# --- properties -----------------------------------------------------------------------------------

ANY_LINE = st.text(st.characters(exclude_characters="\r\n", exclude_categories=("Cs",)), max_size=40)
COMMAND_LINE = st.sampled_from(
    [
        "/mini review",
        "/mini full-review --only risk",
        "/mini pause",
        " /mini config",
        "   /MINI help",
        "/mini",
    ]
)
BODY_LINES = st.lists(st.one_of(ANY_LINE, COMMAND_LINE), min_size=1, max_size=6)
# Prose has no Markdown openers (`, ~, <, >, \) and never starts a line with a command.
PROSE_LINE = st.text(
    st.characters(exclude_characters="\r\n`~<>\\", exclude_categories=("Cs",)), min_size=1, max_size=40
).filter(lambda s: s.strip() and not s.lstrip(" ").lower().startswith("/mini"))


def _longest_run(lines: list[str], char: str) -> int:
    return max((len(run) for line in lines for run in re.findall(re.escape(char) + "+", line)), default=0)


@st.composite
def fenced_block(draw: st.DrawFn) -> str:
    char = draw(st.sampled_from("`~"))
    content = draw(BODY_LINES)
    fence = char * max(3, _longest_run(content, char) + 1 + draw(st.integers(0, 2)))
    indent = " " * draw(st.integers(0, 3))
    info = draw(st.sampled_from(["", "python", " yaml", "diff title=x"]))
    if draw(st.booleans()):  # inside a list item
        return "\n".join(["- " + fence + info, *("  " + line for line in content), "  " + fence])
    return "\n".join([indent + fence + info, *content, " " * draw(st.integers(0, 3)) + fence])


@st.composite
def quoted_block(draw: st.DrawFn) -> str:
    marker = draw(st.sampled_from(["> ", ">", "   > ", "> > ", "- > "]))
    return "\n".join(marker + line for line in draw(BODY_LINES))


@st.composite
def html_comment_block(draw: st.DrawFn) -> str:
    lines = [line for line in draw(BODY_LINES) if "-->" not in line]
    return "\n".join(["<!--", *lines, "-->"])


@st.composite
def code_span_block(draw: st.DrawFn) -> str:
    words = st.text(st.sampled_from("abc xyz,.!"), min_size=1, max_size=10).filter(str.strip)
    inner = draw(st.lists(st.one_of(words, COMMAND_LINE.map(str.strip)), min_size=1, max_size=4))
    ticks = "`" * draw(st.integers(1, 3))
    # The closing ticks end a line of text: alone on a line, ``` would open a fence instead.
    return draw(words) + " " + ticks + " x\n" + "\n".join(inner) + " " + ticks


HIDDEN = st.one_of(fenced_block(), quoted_block(), html_comment_block(), code_span_block())
PROSE = st.lists(PROSE_LINE, min_size=1, max_size=3).map("\n".join)


@st.composite
def document(draw: st.DrawFn) -> str:
    blocks = draw(st.lists(st.one_of(HIDDEN, PROSE), min_size=1, max_size=6))
    separators = [draw(st.sampled_from(["\n", "\n\n"])) for _ in blocks]
    text = "".join(sep + block for sep, block in zip(separators, blocks, strict=True))
    return text.replace("\n", "\r\n") if draw(st.booleans()) else text


@settings(max_examples=300)
@given(document())
def test_commands_in_code_quotes_and_comments_never_count(body: str) -> None:
    assert parse_commands(body) == []


@settings(max_examples=300)
@given(document(), st.sampled_from(["\n", "\r\n", "\n\n"]))
def test_a_command_line_appended_at_top_level_always_counts(body: str, newline: str) -> None:
    assert parse_commands(body + newline + "/mini pause") == [PAUSE]


@given(st.text(max_size=300))
def test_any_text_parses_without_error(body: str) -> None:
    for item in parse_commands(body):
        assert isinstance(item, Command | UnknownCommand)


# --- conversation commands -------------------------------------------------------------------------


def test_ask_takes_the_rest_of_the_line_as_its_question() -> None:
    [command] = parse_commands("/mini ask   Why does `run` use shell=True?  \nmore text")
    assert command == Command(CommandName.ASK, text="Why does `run` use shell=True?")
    [bad] = parse_commands("/mini ask")
    assert isinstance(bad, UnknownCommand) and "needs a question" in bad.reason


def test_learnings_and_ignore_are_commands_without_options() -> None:
    assert parse_commands("/mini learnings\n/mini ignore") == [
        Command(CommandName.LEARNINGS),
        Command(CommandName.IGNORE),
    ]
    [bad] = parse_commands("/mini learnings all")
    assert isinstance(bad, UnknownCommand)

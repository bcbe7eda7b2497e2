"""Repository config: schema, readable errors, layering, rendering, and never raising on bad input."""

from __future__ import annotations

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from app.commands.parse import parse_commands
from app.config.repo_config import (
    CONFIG_PATH,
    MAX_CONFIG_CHARS,
    ORG_SOURCE,
    SERVER_SOURCE,
    Categories,
    RepoConfig,
    effective_config,
    parse_config_text,
    render_config,
    repo_file_source,
)
from app.review.findings import Category, Severity

SRC = repo_file_source("main")
DEFAULTS = RepoConfig()

FULL_FILE = """\
# every key, as a user would write it
enabled: true
auto_review:
  enabled: true
  drafts: true
  base_branches: [main, "release/*", "/^hotfix-\\\\d+$/"]
  ignore_authors: ["renovate*"]
  ignore_bots: false
  ignore_title: ["WIP", "/^draft:/"]
paths:
  include: ["src/**"]
  exclude: ["docs/**", "*.md"]
categories:
  lint: false
  test: true
  risk: true
min_severity: major
min_confidence: 0.7
max_inline_comments: 5
instructions: |
  Prefer small functions.
  Flag any SQL built with f-strings.
path_instructions:
  - path: "migrations/**"
    instructions: Check that every migration can be rolled back.
fail_on: critical
incremental: false
"""


def errors_of(text: str) -> list[str]:
    raw, errors = parse_config_text(text, source=SRC)
    if errors:
        assert raw == {}  # a layer with errors is dropped whole
    return errors


# --- schema and defaults ----------------------------------------------------------------------------


def test_defaults() -> None:
    cfg = RepoConfig()
    assert cfg.enabled and cfg.auto_review.enabled and cfg.incremental
    assert not cfg.auto_review.drafts
    assert cfg.auto_review.ignore_bots
    assert cfg.auto_review.ignore_title == ["WIP", "[skip review]", "[no review]"]
    assert cfg.min_severity is Severity.MINOR
    assert cfg.min_confidence == 0.5
    assert cfg.max_inline_comments == 15
    assert cfg.fail_on is None
    assert cfg.categories.enabled() == frozenset(Category)


def test_a_full_valid_file() -> None:
    raw, errors = parse_config_text(FULL_FILE, source=SRC)
    assert errors == []
    cfg = RepoConfig.model_validate(raw)
    assert cfg.auto_review.base_branches == ["main", "release/*", "/^hotfix-\\d+$/"]
    assert cfg.paths.exclude == ["docs/**", "*.md"]
    assert cfg.categories.enabled() == {Category.TEST, Category.RISK}
    assert cfg.min_severity is Severity.MAJOR
    assert cfg.instructions.startswith("Prefer small functions.\n")
    assert cfg.path_instructions[0].path == "migrations/**"
    assert cfg.fail_on == "critical"
    assert not cfg.incremental


@pytest.mark.parametrize("text", ["", "   \n", "# only a comment\n", "---\n"])
def test_an_empty_file_is_valid_and_sets_nothing(text: str) -> None:
    assert parse_config_text(text, source=SRC) == ({}, [])


def test_categories_enabled() -> None:
    assert Categories(lint=False, test=False).enabled() == {Category.RISK}


# --- readable errors ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("paths:\n  exclude: docs/**\n", "paths.exclude: Input should be a valid list (got 'docs/**')"),
        ("auto_reveiw:\n  drafts: true\n", "auto_reveiw: unknown key (did you mean 'auto_review'?)"),
        (
            "base_branches: [main]\n",
            "base_branches: unknown key here (did you mean 'auto_review.base_branches'?)",
        ),
        ("zzz: 1\n", "zzz: unknown key; known keys here: enabled, auto_review,"),
        ("paths:\n  exlude: [a]\n", "paths.exlude: unknown key (did you mean 'exclude'?)"),
        (
            "path_instructions:\n  - path: a/**\n    instruction: x\n",
            "path_instructions[0].instruction: unknown key (did you mean 'instructions'?)",
        ),
        ("path_instructions:\n  - path: a/**\n", "path_instructions[0].instructions: Field required"),
        (
            "min_severity: Minor\n",
            "min_severity: Input should be 'nit', 'minor', 'major' or 'critical' (got 'Minor')",
        ),
        ("fail_on: minor\n", "fail_on: Input should be 'critical' or 'major' (got 'minor')"),
        ("max_inline_comments: 1000\n", "max_inline_comments: Input should be less than or equal to 100"),
        ("max_inline_comments: true\n", "max_inline_comments: Input should be a valid integer (got true)"),
        ("min_confidence: 2\n", "min_confidence: Input should be less than or equal to 1"),
        ("categories:\n  lint: 'no'\n", "categories.lint: Input should be a valid boolean (got 'no')"),
        ("paths:\n", "paths: should be a mapping (key: value), not nothing (null)"),
        ("auto_review: [a]\n", "auto_review: should be a mapping (key: value), not a list"),
        (
            "auto_review:\n  base_branches: [1.10]\n",
            "auto_review.base_branches[0]: Input should be a valid string",
        ),
        (
            "auto_review:\n  ignore_authors: ['']\n",
            "auto_review.ignore_authors[0]: String should have at least 1",
        ),
        ("instructions: " + "x" * 4001 + "\n", "instructions: String should have at most 4000 characters"),
        (
            "auto_review:\n  ignore_title: ['/[/']\n",
            "auto_review.ignore_title: invalid regular expression /[/",
        ),
        (
            "auto_review:\n  ignore_title: ['/(?<!x)wip/']\n",
            "auto_review.ignore_title: invalid regular expression /(?<!x)wip/: invalid perl operator",
        ),
        (
            "auto_review:\n  ignore_authors: ['/(a)\\1/']\n",
            "lookaround and backreferences are not supported",
        ),
        ("on: true\n", "key true must be text"),
    ],
)
def test_validation_errors_are_readable(text: str, expected: str) -> None:
    errors = errors_of(text)
    assert any(expected in e for e in errors), errors
    assert all(e.startswith(f"{SRC}: ") for e in errors)


def test_numbers_given_as_text_get_a_quoting_hint() -> None:
    [error] = errors_of("auto_review:\n  base_branches: [1.10]\n")
    assert "(got 1.1; put it in quotes)" in error


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("paths: [\n", "invalid YAML at line 2, column 1"),
        ("a: b: c\n", "invalid YAML at line 1, column 5"),
        ("enabled: true\n\tpaths: {}\n", "invalid YAML at line 2"),
        (
            "paths:\n  include: [a]\npaths:\n  exclude: [b]\n",
            "invalid YAML at line 3, column 1: duplicate key 'paths'",
        ),
        ("a: 1\n---\nb: 2\n", "invalid YAML"),
        ("instructions: 2024-13-45\n", "invalid YAML: month must be in 1..12"),
        ("\x00", "invalid YAML"),
        ("- a\n- b\n", "the file must be a mapping of settings (key: value), not a list"),
        ("just text\n", "the file must be a mapping of settings (key: value), not text"),
        ("[" * 5000, "invalid YAML"),
    ],
)
def test_yaml_problems_are_reported_not_raised(text: str, expected: str) -> None:
    errors = errors_of(text)
    assert len(errors) == 1
    assert errors[0].startswith(f"{SRC}: ")
    assert expected in errors[0]


def test_merge_keys_may_override_without_a_duplicate_error() -> None:
    text = "x-base: &base {enabled: true, drafts: false}\n"
    raw, errors = parse_config_text(text, source=SRC)
    assert errors  # `x-base` itself is an unknown key...
    text = "auto_review:\n  <<: {enabled: true, drafts: false}\n  drafts: true\n"
    raw, errors = parse_config_text(text, source=SRC)
    assert errors == []  # ...but `<<` merges followed by an override are fine
    assert RepoConfig.model_validate(raw).auto_review.drafts


def test_self_referencing_alias_does_not_hang() -> None:
    assert errors_of("a: &a [*a]\n")


def test_too_large_file() -> None:
    [error] = errors_of("#" * (MAX_CONFIG_CHARS + 1))
    assert "too large" in error


@settings(max_examples=300)
@given(st.text(max_size=300))
def test_any_text_never_raises(text: str) -> None:
    raw, errors = parse_config_text(text, source=SRC)
    assert isinstance(raw, dict)
    assert all(isinstance(e, str) and e for e in errors)


YAML_ATOMS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-5, 200),
    st.floats(allow_nan=False, allow_infinity=False),
    st.sampled_from(["main", "WIP", "/x/", "/[/", "docs/**", "minor", "critical", ""]),
)
KEYS = st.sampled_from(
    [
        "enabled",
        "auto_review",
        "paths",
        "include",
        "exclude",
        "drafts",
        "base_branches",
        "ignore_title",
        "categories",
        "lint",
        "min_severity",
        "fail_on",
        "path_instructions",
        "path",
        "instructions",
        "bogus",
    ]
)
YAML_VALUES = st.recursive(
    YAML_ATOMS,
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(KEYS, inner, max_size=4)),
    max_leaves=12,
)


@settings(max_examples=300)
@given(st.dictionaries(KEYS, YAML_VALUES, max_size=5))
def test_structured_garbage_never_raises_and_valid_means_loadable(data: dict[str, object]) -> None:
    text = yaml.safe_dump(data)
    raw, errors = parse_config_text(text, source=SRC)
    if not errors:
        RepoConfig.model_validate(raw)
    result = effective_config(DEFAULTS, None, text)
    assert (result.errors == []) == (errors == [])


# --- layering ----------------------------------------------------------------------------------------


def test_layers_merge_mappings_and_replace_lists() -> None:
    org = "paths:\n  exclude: [a, b]\n  include: [src/**]\nauto_review:\n  drafts: true\nfail_on: major\n"
    repo = "paths:\n  exclude: [c]\nmin_severity: nit\n"
    result = effective_config(DEFAULTS, org, repo, repo_source=SRC)
    cfg = result.config
    assert result.errors == [] and result.ignored == []
    assert result.sources == [SERVER_SOURCE, ORG_SOURCE, SRC]
    assert cfg.paths.exclude == ["c"]  # replaced, not [a, b, c]
    assert cfg.paths.include == ["src/**"]  # kept from the org: mappings merge key by key
    assert cfg.auto_review.drafts  # org
    assert cfg.auto_review.ignore_title == DEFAULTS.auto_review.ignore_title  # server
    assert cfg.fail_on == "major"  # org
    assert cfg.min_severity is Severity.NIT  # repo


def test_repo_can_reset_a_value_to_null() -> None:
    result = effective_config(DEFAULTS, "fail_on: major\n", "fail_on: null\n")
    assert result.config.fail_on is None


def test_server_defaults_are_the_base() -> None:
    server = RepoConfig.model_validate({"max_inline_comments": 3, "auto_review": {"drafts": True}})
    result = effective_config(server, None, "auto_review:\n  ignore_bots: false\n")
    assert result.config.max_inline_comments == 3
    assert result.config.auto_review.drafts and not result.config.auto_review.ignore_bots
    assert result.sources == [SERVER_SOURCE, CONFIG_PATH]


def test_no_files_means_server_defaults() -> None:
    result = effective_config(DEFAULTS, None, None)
    assert result.config == DEFAULTS
    assert result.sources == [SERVER_SOURCE] and result.errors == []


def test_invalid_repo_layer_is_reported_and_org_plus_server_used() -> None:
    result = effective_config(
        DEFAULTS, "max_inline_comments: 7\n", "max_inline_comments: 7\npaths: [x]\n", repo_source=SRC
    )
    assert result.config.max_inline_comments == 7  # from the org, not half of the repo file
    assert result.config.paths == DEFAULTS.paths
    assert result.sources == [SERVER_SOURCE, ORG_SOURCE]
    assert result.ignored == [SRC]
    assert result.errors == [f"{SRC}: paths: should be a mapping (key: value), not a list"]


def test_invalid_repo_layer_does_not_apply_its_valid_keys() -> None:
    result = effective_config(DEFAULTS, None, "enabled: false\nbogus: 1\n")
    assert result.config.enabled  # `enabled: false` is not applied from a broken file


def test_invalid_org_layer_is_ignored_and_repo_still_applies() -> None:
    result = effective_config(DEFAULTS, "auto_review: {drafts: maybe}\n", "min_confidence: 0.9\n")
    assert result.config.min_confidence == 0.9
    assert result.config.auto_review.drafts is False
    assert result.ignored == [ORG_SOURCE]
    assert result.sources == [SERVER_SOURCE, CONFIG_PATH]
    assert result.errors[0].startswith(f"{ORG_SOURCE}: auto_review.drafts: Input should be a valid boolean")


def test_both_layers_invalid() -> None:
    result = effective_config(DEFAULTS, "a: [\n", "- x\n")
    assert result.config == DEFAULTS
    assert result.ignored == [ORG_SOURCE, CONFIG_PATH]
    assert len(result.errors) == 2


# --- rendering ---------------------------------------------------------------------------------------


def test_render_round_trips_and_names_layers() -> None:
    raw, _ = parse_config_text(FULL_FILE, source=SRC)
    cfg = RepoConfig.model_validate(raw)
    text = render_config(cfg, sources=[SERVER_SOURCE, SRC])
    assert "server defaults \u2192 .github/mini-review.yml on main" in text
    block = text.split("```yaml\n", 1)[1].split("\n```", 1)[0]
    assert RepoConfig.model_validate(yaml.safe_load(block)) == cfg
    assert "instructions: |" in block  # multi-line text stays readable
    assert parse_commands(text) == []


def test_render_cannot_be_broken_out_of_by_backticks_in_instructions() -> None:
    cfg = RepoConfig(instructions="see:\n```\n/mini review\n```\n")
    text = render_config(cfg, errors=["x: ``` /mini pause"])
    assert "````yaml\n" in text
    assert parse_commands(text) == []


def test_render_lists_errors() -> None:
    result = effective_config(DEFAULTS, None, "bogus: 1\n", repo_source=SRC)
    text = render_config(result.config, sources=result.sources, errors=result.errors)
    assert "Ignored because of errors" in text
    assert f"{SRC}: bogus: unknown key" in text


def test_a_glob_that_would_match_nothing_is_reported() -> None:
    result = effective_config(DEFAULTS, None, 'paths:\n  exclude: ["[z-a]"]\n', repo_source=SRC)
    assert result.config.paths == DEFAULTS.paths
    assert len(result.errors) == 1 and "invalid glob '[z-a]'" in result.errors[0]
    result = effective_config(DEFAULTS, None, "path_instructions:\n  - {path: '!', instructions: x}\n")
    assert result.errors and "invalid glob '!'" in result.errors[0]

"""The per-repository configuration file `.github/mini-review.yml`: schema, parsing, layering.

Layers, lowest first: the server's defaults, the org's `.github` repository (same path), then the file on
the pull request's BASE branch (never the head, so a PR cannot change how it is itself reviewed). Mappings
merge key by key; lists and scalars REPLACE (a repo's `paths.exclude` is the whole list, not an addition).
A layer with any error is ignored as a whole and its errors are reported: a half-applied file would review
with settings nobody wrote. Everything here is pure: callers pass the file texts in.

Pattern syntax used by several keys:
- `paths.*` and `path_instructions[].path`: gitignore-like globs (`docs/**`, `*.md` at any depth).
- `auto_review.base_branches` and `auto_review.ignore_authors`: `*` and `?` wildcards, or `/regex/`.
- `auto_review.ignore_title`: plain text matched case-insensitively as a whole word (`WIP` matches
  "WIP: x" and "[wip] x", not "Swipe"), or `/regex/` searched case-insensitively.
Every `/regex/` is RE2 syntax, matched in linear time (titles and logins are chosen by strangers); a
pattern RE2 cannot run (lookaround, backreferences) is a configuration error reported on the PR.
"""

from __future__ import annotations

import difflib
import inspect
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Annotated, Any, Literal, get_args

import yaml
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StrictFloat,
    StrictInt,
    ValidationError,
    field_validator,
)

from app.diff.globs import glob_error
from app.linear_regex import LinearRegexError, compile_linear
from app.review.findings import Category, Severity

CONFIG_PATH = ".github/mini-review.yml"
SERVER_SOURCE = "server defaults"
ORG_SOURCE = "org .github repo"
MAX_CONFIG_CHARS = 64_000
INSTRUCTIONS_MAX_CHARS = 4_000
MAX_PATH_INSTRUCTIONS = 50

# A non-empty string; YAML numbers are not accepted as text (`1.10` would silently become "1.1").
Text = Annotated[str, Field(min_length=1, max_length=500, strict=True)]
Instructions = Annotated[str, Field(max_length=INSTRUCTIONS_MAX_CHARS, strict=True)]


def _check_glob(pattern: str) -> str:
    """Reject a glob pathspec/RE2 cannot use (it would silently match nothing)."""
    error = glob_error(pattern)
    if error is not None:
        raise ValueError(error)
    return pattern


Glob = Annotated[Text, AfterValidator(_check_glob)]


def regex_of(pattern: str) -> str | None:
    """Return the regular expression of a `/regex/` pattern, or None for a plain pattern."""
    if len(pattern) >= 2 and pattern.startswith("/") and pattern.endswith("/"):
        return pattern[1:-1]
    return None


def _check_patterns(patterns: list[str]) -> list[str]:
    """Reject `/regex/` entries the linear-time matcher cannot run (they would be matched with it)."""
    for pattern in patterns:
        body = regex_of(pattern)
        if body is None:
            continue
        try:
            compile_linear(body)
        except LinearRegexError as exc:
            raise ValueError(f"invalid regular expression {pattern}: {exc}") from None
    return patterns


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class AutoReview(_Section):
    """When a pull request is reviewed without being asked."""

    enabled: StrictBool = True
    drafts: StrictBool = False
    base_branches: list[Text] = Field(default_factory=list)  # empty = every base branch
    ignore_authors: list[Text] = Field(default_factory=list)
    ignore_bots: StrictBool = True
    ignore_title: list[Text] = Field(default_factory=lambda: ["WIP", "[skip review]", "[no review]"])
    # false: PRs from forks wait for a writer's `/mini review`, so strangers cannot spend the budget
    forks: StrictBool = True

    @field_validator("base_branches", "ignore_authors", "ignore_title")
    @classmethod
    def _valid_patterns(cls, patterns: list[str]) -> list[str]:
        return _check_patterns(patterns)


class Paths(_Section):
    """Which changed files are reviewed: `include` (empty = all), minus `exclude`."""

    include: list[Glob] = Field(default_factory=list)
    exclude: list[Glob] = Field(default_factory=list)


class Categories(_Section):
    """Which kinds of findings are asked for."""

    lint: StrictBool = True
    test: StrictBool = True
    risk: StrictBool = True

    def enabled(self) -> frozenset[Category]:
        """Return the categories switched on."""
        return frozenset(c for c in Category if getattr(self, c.value))


class PathInstruction(_Section):
    """Extra instructions for the model about files matching `path` (a glob)."""

    path: Glob
    instructions: Annotated[str, Field(min_length=1, max_length=INSTRUCTIONS_MAX_CHARS, strict=True)]


class RepoConfig(_Section):
    """The effective configuration of one repository."""

    enabled: StrictBool = True
    auto_review: AutoReview = Field(default_factory=AutoReview)
    paths: Paths = Field(default_factory=Paths)
    categories: Categories = Field(default_factory=Categories)
    # "minor" by default: nits are what reviewers skim past, and noise costs trust in the tool.
    min_severity: Severity = Severity.MINOR
    min_confidence: StrictFloat = Field(default=0.5, ge=0.0, le=1.0)
    max_inline_comments: StrictInt = Field(default=15, ge=0, le=100)
    instructions: Instructions = ""
    # One shape only: a list of {path, instructions}; a mapping would make glob order ambiguous.
    path_instructions: list[PathInstruction] = Field(default_factory=list, max_length=MAX_PATH_INSTRUCTIONS)
    fail_on: Literal["critical", "major"] | None = None  # check run fails when a finding reaches this
    # USD per UTC day for the installation, as this repo sees it: only lowers MINI_MAX_COST_PER_DAY.
    max_cost_per_day: StrictFloat | StrictInt | None = None
    incremental: StrictBool = True

    @field_validator("max_cost_per_day")
    @classmethod
    def _positive_budget(cls, value: float | None) -> float | None:
        if value is not None and not value > 0:
            raise ValueError("must be a positive amount of USD")
        return value


@dataclass(frozen=True)
class ConfigResult:
    """The configuration in effect, the problems found, and which layers were applied or ignored."""

    config: RepoConfig
    errors: list[str] = field(default_factory=list)
    sources: list[str] = field(default_factory=list)
    ignored: list[str] = field(default_factory=list)
    # Layers that exist but could not be read (403, SSO, too large, a symlink): not "absent", so no
    # review may run on the layers below them (the file may say `enabled: false` or exclude paths).
    unreadable: list[str] = field(default_factory=list)


def repo_file_source(base_ref: str) -> str:
    """Return how errors name the repository's file on a base branch."""
    return f"{CONFIG_PATH} on {base_ref}"


def parse_config_text(text: str, *, source: str) -> tuple[dict[str, Any], list[str]]:
    """Parse and validate one layer; return its raw mapping, or {} and readable errors."""
    if len(text) > MAX_CONFIG_CHARS:
        return {}, [f"{source}: the file is too large ({len(text):,} characters; limit {MAX_CONFIG_CHARS:,})"]
    try:
        data = yaml.load(text, Loader=_StrictLoader)  # a SafeLoader subclass: no arbitrary objects
    except yaml.MarkedYAMLError as exc:
        return {}, [f"{source}: {_yaml_error_text(exc)}"]
    except (yaml.YAMLError, ValueError, OverflowError, RecursionError) as exc:
        # PyYAML raises ValueError for impossible dates such as 2024-13-45.
        return {}, [f"{source}: invalid YAML: {_one_line(str(exc))}"]
    if data is None:
        return {}, []
    if not isinstance(data, dict):
        return {}, [f"{source}: the file must be a mapping of settings (key: value), not {_kind(data)}"]
    errors = validation_errors(data, source=source)
    return ({}, errors) if errors else (data, [])


def validation_errors(data: dict[str, Any], *, source: str) -> list[str]:
    """Return readable errors for validating `data` as a RepoConfig, each with its dotted key path."""
    try:
        RepoConfig.model_validate(data)
    except ValidationError as exc:
        return [f"{source}: {_error_text(err)}" for err in exc.errors(include_url=False)]
    except RecursionError:
        return [f"{source}: the file nests too deeply"]
    return []


def effective_config(
    server_defaults: RepoConfig,
    org_text: str | None,
    repo_text: str | None,
    *,
    org_source: str = ORG_SOURCE,
    repo_source: str = CONFIG_PATH,
) -> ConfigResult:
    """Layer server defaults < org file < repo file; skip (and report) a layer that has errors."""
    merged: dict[str, Any] = server_defaults.model_dump(mode="json")
    config = server_defaults
    sources = [SERVER_SOURCE]
    errors: list[str] = []
    ignored: list[str] = []
    for text, source in ((org_text, org_source), (repo_text, repo_source)):
        if text is None:
            continue
        raw, layer_errors = parse_config_text(text, source=source)
        if not layer_errors:
            candidate = _deep_merge(merged, raw)
            layer_errors = validation_errors(candidate, source=source)
            if not layer_errors:
                merged, config = candidate, RepoConfig.model_validate(candidate)
                sources.append(source)
                continue
        errors.extend(layer_errors)
        ignored.append(source)
    return ConfigResult(config=config, errors=errors, sources=sources, ignored=ignored)


def render_config(cfg: RepoConfig, *, sources: Sequence[str] = (), errors: Sequence[str] = ()) -> str:
    """Return markdown showing the configuration in effect (for the `/mini config` reply)."""
    dumped = yaml.dump(
        cfg.model_dump(mode="json"), Dumper=_ReadableDumper, sort_keys=False, allow_unicode=True, width=100
    )
    parts = ["**mini-review configuration in effect**"]
    if sources:
        parts.append("Layers, lowest first: " + " \u2192 ".join(sources))
    parts.append(_fenced(dumped, "yaml"))
    if errors:
        parts.append("**Ignored because of errors:**")
        parts.append(_fenced("\n".join(errors) + "\n", "text"))
    parts.append(f"Change it in `{CONFIG_PATH}` on the base branch.")
    return "\n\n".join(parts) + "\n"


# --- YAML -------------------------------------------------------------------------------------------


class _StrictLoader(yaml.SafeLoader):
    """A SafeLoader that reports duplicate keys instead of silently keeping the last one."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: set[Any] = set()
        for key_node, _ in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                continue  # `<<: *base` keys may be overridden on purpose
            key = self.construct_object(key_node, deep=deep)
            try:
                duplicate = key in seen
                seen.add(key)
            except TypeError:
                continue  # unhashable keys are reported by SafeLoader itself
            if duplicate:
                raise yaml.constructor.ConstructorError(
                    None, None, f"duplicate key {key!r}", key_node.start_mark
                )
        return super().construct_mapping(node, deep=deep)


class _ReadableDumper(yaml.SafeDumper):
    """A SafeDumper that writes multi-line text as `|` blocks."""


def _represent_str(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_ReadableDumper.add_representer(str, _represent_str)


def _yaml_error_text(exc: yaml.MarkedYAMLError) -> str:
    mark = exc.problem_mark or exc.context_mark
    where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
    problem = exc.problem or exc.context or "syntax error"
    return f"invalid YAML{where}: {_one_line(problem)}"


def _fenced(text: str, info: str) -> str:
    """Fence text so that no backtick run inside it can close the block."""
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    fence = "`" * max(3, longest + 1)
    return f"{fence}{info}\n{text}{fence}"


# --- merging and error text -------------------------------------------------------------------------


def _deep_merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    """Merge `over` onto `base`: mappings key by key, everything else (lists too) replaced."""
    merged = dict(base)
    for key, value in over.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _deep_merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def _error_text(err: Any) -> str:
    """Turn one pydantic error into "dotted.path: what is wrong"."""
    loc: tuple[str | int, ...] = tuple(err["loc"])
    kind: str = err["type"]
    value = err.get("input")
    if kind == "invalid_key":
        where = _dotted(loc[:-1])
        prefix = f"{where}: " if where else ""
        return f"{prefix}key {_show(value)} must be text (YAML reads yes/no/on/off as true/false; quote it)"
    where = _dotted(loc) or "(top level)"
    if kind == "extra_forbidden":
        return f"{where}: unknown key{_key_hint(loc)}"
    if kind in {"model_type", "dict_type", "model_attributes_type"}:
        return f"{where}: should be a mapping (key: value), not {_kind(value)}"
    message = str(err["msg"]).removeprefix("Value error, ")
    if kind == "string_type" and isinstance(value, int | float) and not isinstance(value, bool):
        return f"{where}: {message} (got {_show(value)}; put it in quotes)"
    if isinstance(value, str | int | float | bool) or value is None:
        return f"{where}: {message} (got {_show(value)})"
    return f"{where}: {message}"


def _dotted(loc: tuple[str | int, ...]) -> str:
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def _key_hint(loc: tuple[str | int, ...]) -> str:
    """Suggest the key meant: a close spelling here, or the same key in another section."""
    name = str(loc[-1])
    known = _known_keys(loc[:-1])
    close = difflib.get_close_matches(name, known, n=1, cutoff=0.6)
    if close:
        return f" (did you mean '{close[0]}'?)"
    elsewhere = [path for path in _all_key_paths(RepoConfig) if path.rsplit(".", 1)[-1] == name]
    if elsewhere:
        return f" here (did you mean '{elsewhere[0]}'?)"
    return f"; known keys here: {', '.join(known)}"


def _all_key_paths(model: type[BaseModel], prefix: str = "") -> list[str]:
    paths: list[str] = []
    for name, info in model.model_fields.items():
        paths.append(prefix + name)
        inner = _model_in(info.annotation)
        if inner is not None:
            paths.extend(_all_key_paths(inner, f"{prefix}{name}."))
    return paths


def _known_keys(loc: tuple[str | int, ...]) -> list[str]:
    """Return the keys allowed in the section at `loc` (list indexes skipped)."""
    model: type[BaseModel] = RepoConfig
    for part in loc:
        if isinstance(part, int):
            continue
        info = model.model_fields.get(part)
        inner = _model_in(info.annotation) if info is not None else None
        if inner is None:
            return []
        model = inner
    return list(model.model_fields)


def _model_in(annotation: Any) -> type[BaseModel] | None:
    if inspect.isclass(annotation) and issubclass(annotation, BaseModel):
        return annotation
    for arg in get_args(annotation):
        found = _model_in(arg)
        if found is not None:
            return found
    return None


def _kind(value: Any) -> str:
    if value is None:
        return "nothing (null)"
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "text"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    return type(value).__name__


def _show(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    text = repr(value) if isinstance(value, str) else str(value)
    return text if len(text) <= 60 else text[:59] + "\u2026"


def _one_line(text: str) -> str:
    return " ".join(text.split())

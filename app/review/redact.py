"""Find secrets in diff text and replace them before anything leaves the process.

Known token formats are matched exactly; values assigned to secret-sounding names are caught by
how random they look (Shannon entropy plus a mix of character classes), which keeps ordinary
identifiers and test placeholders out.

Every pattern runs on RE2 (app.linear_regex): diffs and PR descriptions are written by strangers, and
with Python's backtracking `re` runs like "authauth..." or "sk-sk-..." made this module quadratic (16 K
characters of description took seconds, on every push). RE2 has no lookaround or backreferences, so
the openai-key digit rule and the matching quotes of an assignment are checked in code instead.

Hand-written rather than detect-secrets: that library is a scanner (it reports findings per file and
line, with a baseline workflow) and runs its detectors on Python's backtracking `re`; here we need
the spans to replace, in memory, in linear time, for a short list of token formats.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from typing import Final

from app.diff.model import Chunk, DiffLine, Hunk, LineKind
from app.linear_regex import LinearMatch, LinearPattern, compile_linear
from app.review.findings import Category, Finding, Severity

ENTROPY_THRESHOLD: Final = 3.0  # bits per character; random 12+ char tokens score well above it
MIN_SECRET_LENGTH: Final = 12

SECRET_TITLE = "A secret appears to be committed"


def is_secret_finding(finding: Finding) -> bool:
    """True for the warnings this module raises itself (they need no model and are always kept)."""
    return finding.category is Category.RISK and finding.title == SECRET_TITLE


_KEY_BEGIN = compile_linear(r"-----BEGIN[A-Z0-9 ]*PRIVATE KEY( BLOCK)?-----")
_KEY_END = compile_linear(r"-----END[A-Z0-9 ]*PRIVATE KEY( BLOCK)?-----")
_KEY_BLOCK = compile_linear(
    r"-----BEGIN[A-Z0-9 ]*PRIVATE KEY( BLOCK)?-----.*?(?:-----END[A-Z0-9 ]*PRIVATE KEY( BLOCK)?-----|\z)",
    dot_all=True,
)
_BASE64_LINE = compile_linear(r"\s*[A-Za-z0-9+/=]{16,}\s*")


def _has_digit(token: str) -> bool:
    return any(c.isdigit() for c in token[3:])


# Ordered: specific formats first, so the generic rules only see what is left. The third item, when
# set, must accept the matched text (RE2 has no lookahead): an OpenAI-style key holds a digit, so names
# like "sk-learn-estimator-wrapper" are left alone.
_OPENAI_KEY_RULE = compile_linear(r"\bsk-(?:proj-|svcacct-|admin-)?[A-Za-z0-9_-]{20,}")
Accept = Callable[[str], bool] | None
_PATTERNS: Final[tuple[tuple[str, LinearPattern, Accept], ...]] = (
    ("aws-access-key", compile_linear(r"\b(?:AKIA|ASIA|AGPA|AIDA|AROA)[0-9A-Z]{16}\b"), None),
    ("github-token", compile_linear(r"\b(?:ghp|gho|ghs|ghu|ghr)_[A-Za-z0-9]{30,}\b"), None),
    ("github-token", compile_linear(r"\bgithub_pat_[A-Za-z0-9_]{30,}"), None),
    ("slack-token", compile_linear(r"\bxox[baprs]-[A-Za-z0-9-]{10,}"), None),
    ("openai-key", _OPENAI_KEY_RULE, _has_digit),
    ("jwt", compile_linear(r"\beyJ[A-Za-z0-9_-]{5,}\.eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*"), None),
    ("google-api-key", compile_linear(r"\bAIza[0-9A-Za-z_-]{35}"), None),
)

_SECRET_WORDS = (
    r"password|passwd|pwd|secret|token|api[_-]?key|apikey|access[_-]?key|private[_-]?key|credential|auth"
)
_SECRET_NAME = rf"(?:{_SECRET_WORDS})[\w.-]*"
# One alternative per quote character stands in for a backreference to the opening quote.
_ASSIGNMENT = compile_linear(
    rf"(?i)(?P<name>{_SECRET_NAME})[\"']?\s*(?::=|=>|[:=])\s*"
    r"(?:\"(?P<dq>[^\"'`\n]+)\"|'(?P<sq>[^\"'`\n]+)'|`(?P<bq>[^\"'`\n]+)`|(?P<bare>[^\s\"'`,;)\]}]+))"
)
_QUOTED_GROUPS: Final = ("dq", "sq", "bq")
_BEARER = compile_linear(r"(?i)\bbearer\s+(?P<value>[A-Za-z0-9._~+/-]{20,}=*)")
_URL_PASSWORD = compile_linear(r"(?i)\b[a-z][a-z0-9+.-]*://[^\s:@/]+:(?P<value>[^\s@/]+)@")
_WORDY_SEGMENT = re.compile(r"[A-Za-z]*\d*")
_REFERENCE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*(?:\(.*)?")
_PLACEHOLDER_HINTS: Final = (
    "example",
    "changeme",
    "change_me",
    "xxxx",
    "****",
    "${",
    "{{",
    "%(",
    "<",
    "redacted:",
    "dummy",
    "placeholder",
)

_LABELS: Final = {
    "private-key": "a private key",
    "aws-access-key": "an AWS access key",
    "github-token": "a GitHub token",
    "slack-token": "a Slack token",
    "openai-key": "an OpenAI-style API key",
    "jwt": "a JSON Web Token",
    "google-api-key": "a Google API key",
    "bearer-token": "a bearer token",
    "url-password": "a password inside a URL",
    "generic-secret": "a password, token or key assigned in code or config",
}


def placeholder(kind: str) -> str:
    """Return the text a secret of `kind` is replaced with."""
    return f"\u00abredacted:{kind}\u00bb"


def shannon_entropy(value: str) -> float:
    """Return the Shannon entropy of `value` in bits per character."""
    if not value:
        return 0.0
    counts = Counter(value)
    size = len(value)
    return -sum(n / size * math.log2(n / size) for n in counts.values())


def _char_classes(value: str) -> int:
    return sum(
        (
            any(c.islower() for c in value),
            any(c.isupper() for c in value),
            any(c.isdigit() for c in value),
            # '_', '-' and '.' are left out: they join words in ordinary identifiers.
            any(not c.isalnum() and c not in "_-." for c in value),
        )
    )


def looks_random(value: str, *, quoted: bool) -> bool:
    """Tell whether an assigned value looks like a real secret rather than a name or placeholder."""
    if len(value) < MIN_SECRET_LENGTH:
        return False
    lowered = value.lower()
    if any(hint in lowered for hint in _PLACEHOLDER_HINTS):
        return False
    if "://" in value:
        return False  # a URL; passwords inside URLs are matched by their own rule
    if all(_WORDY_SEGMENT.fullmatch(part) for part in re.split(r"[/._:-]", value)):
        return False  # made of words and numbers, like "pbkdf2_sha256" or "test-password-1"
    if not quoted and any(c in "[](){}<>" for c in value):
        return False  # unquoted code: a type annotation, subscript or call
    classes = _char_classes(value)
    if not quoted and _REFERENCE.fullmatch(value) and classes < 3:
        return False  # a variable or attribute, not a literal
    if shannon_entropy(value) < ENTROPY_THRESHOLD:
        return False
    return classes >= 3 or (len(value) >= 20 and classes >= 2)


def _swap_group(match: LinearMatch, group: str, new: str) -> str:
    start, end = match.span(group)
    whole = match.group(0) or ""
    return whole[: start - match.start()] + new + whole[end - match.start() :]


def redact_text(text: str) -> tuple[str, list[str]]:
    """Replace every secret in `text`; return the new text and the kinds found, first seen first."""
    kinds: list[str] = []

    def found(kind: str) -> str:
        if kind not in kinds:
            kinds.append(kind)
        return placeholder(kind)

    text, count = _KEY_BLOCK.subn(placeholder("private-key"), text)
    if count:
        found("private-key")
    for kind, pattern, accept in _PATTERNS:

        def known_format(match: LinearMatch, kind: str = kind, accept: Accept = accept) -> str:
            token = match.group(0) or ""
            return found(kind) if accept is None or accept(token) else token

        text = pattern.sub(known_format, text)
    return _redact_contextual(text, found), kinds


def _redact_contextual(text: str, found: Callable[[str], str]) -> str:
    """Replace values that are secrets only by where they sit: after Bearer, in a URL, assigned."""

    def valued(kind: str, group: str) -> Callable[[LinearMatch], str]:
        def replace_value(match: LinearMatch) -> str:
            if not looks_random(match.group(group) or "", quoted=True):
                return match.group(0) or ""
            return _swap_group(match, group, found(kind))

        return replace_value

    text = _BEARER.sub(valued("bearer-token", "value"), text)
    text = _URL_PASSWORD.sub(valued("url-password", "value"), text)

    def assignment(match: LinearMatch) -> str:
        group = next((g for g in _QUOTED_GROUPS if match.group(g) is not None), "bare")
        if not looks_random(match.group(group) or "", quoted=group != "bare"):
            return match.group(0) or ""
        return _swap_group(match, group, found("generic-secret"))

    return _ASSIGNMENT.sub(assignment, text)


@dataclass(slots=True)
class _LineResult:
    line: DiffLine
    kinds: list[str]


def _redact_hunk(hunk: Hunk) -> list[_LineResult]:
    results: list[_LineResult] = []
    in_key = False
    key_text = placeholder("private-key")
    for line in hunk.lines:
        if in_key:
            if _KEY_END.search(line.text):
                in_key = False
            results.append(_LineResult(replace(line, text=key_text), []))
            continue
        begin = _KEY_BEGIN.search(line.text)
        if begin and not _KEY_END.search(line.text[begin.end() :]):
            in_key = True
        elif not begin and _KEY_END.search(line.text):
            # The block began before this chunk (a split hunk): blank the key body above the end.
            for earlier in reversed(results):
                if earlier.line.text == key_text or not _BASE64_LINE.fullmatch(earlier.line.text):
                    break
                earlier.line = replace(earlier.line, text=key_text)
            results.append(_LineResult(replace(line, text=key_text), ["private-key"]))
            continue
        text, kinds = redact_text(line.text)
        results.append(_LineResult(replace(line, text=text) if kinds else line, kinds))
    return results


def secret_finding(path: str, line: DiffLine, kinds: Iterable[str]) -> Finding:
    """Return the finding for a committed secret; it never contains the secret itself."""
    labels = " and ".join(_LABELS.get(kind, kind) for kind in kinds)
    assert line.new_no is not None
    return Finding(
        category=Category.RISK,
        severity=Severity.CRITICAL,
        confidence=0.9,
        path=path,
        side="new",
        line=line.new_no,
        quote="",  # empty on purpose: placement must trust the number, and the text is the secret
        title=SECRET_TITLE,
        body=(
            f"This line appears to contain {labels}. Treat it as leaked: revoke or rotate it now, remove it "
            "from the git history (for example with git filter-repo), and load it at runtime from a secret "
            "store or an environment variable instead. The value was redacted before review."
        ),
    )


def redact_chunk(chunk: Chunk) -> tuple[Chunk, list[Finding]]:
    """Return a copy of `chunk` with secrets replaced, and one finding per added line that had one.

    Removed and context lines are redacted too but not reported: their secret predates this PR.
    """
    hunks: list[Hunk] = []
    findings: list[Finding] = []
    for hunk in chunk.hunks:
        results = _redact_hunk(hunk)
        hunks.append(replace(hunk, lines=[result.line for result in results]))
        for result in results:
            if result.kinds and result.line.kind is LineKind.ADDED:
                findings.append(secret_finding(chunk.path, result.line, result.kinds))
    return replace(chunk, hunks=hunks), findings

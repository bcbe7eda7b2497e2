"""Render the text mini-review posts to GitHub, treating everything the model wrote as untrusted.

Model text may carry @mentions (GitHub would notify people), issue references (GitHub would add
cross-reference events to other issues), raw HTML, images and links (see links.py), code blocks GitHub
renders as something live (suggestions, diagrams, maps that fetch tiles) and unbalanced code fences
(which would swallow the rest of our body, markers included). Each is neutralised here before anything
is posted.

Hand-written: Markdown libraries (markdown-it-py, mistune) parse or render CommonMark, but none knows
what GitHub's renderer makes live (suggestion and diagram fences, @mentions, #refs), and a round trip
through a parser would rewrite text we only mean to defuse. The rules are string work, fuzz-tested.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field

from app.publish.fingerprint import marker
from app.publish.links import NO_LINKS, LinkPolicy, neutralise_links
from app.publish.placement import FileNote, PlacedComment, PrNote
from app.review.findings import Finding, Severity

MAX_BODY = 65_536  # GitHub's limit for review, review-comment and issue-comment bodies
MAX_TITLE = 200
NOTE_BODY_CHARS = 1_500  # notes in the summary are kept compact
SKIPPED_PER_DETAILS = 200  # keeps each <details> block small enough to survive splitting

_ZWSP = "\u200b"
_MENTION = re.compile(r"(?<![A-Za-z0-9_])@(?=[A-Za-z0-9])")
_ISSUE_REF = re.compile(r"#(?=[0-9])")
_FENCE_OPEN = re.compile(r"^ {0,3}(`{3,}|~{3,})(.*)$")
_BACKTICKS = re.compile(r"`+")
_HTML = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;"})
# A title sits inside our **bold** markers: its own emphasis marks and backslashes must not end them.
_HTML_AND_EMPHASIS = str.maketrans(
    {"&": "&amp;", "<": "&lt;", ">": "&gt;", "*": "\\*", "_": "\\_", "\\": "\\\\"}
)

_SEVERITY_EMOJI = {
    Severity.CRITICAL: "\N{LARGE RED CIRCLE}",
    Severity.MAJOR: "\N{LARGE ORANGE CIRCLE}",
    Severity.MINOR: "\N{LARGE YELLOW CIRCLE}",
    Severity.NIT: "\N{WHITE CIRCLE}",
}
# Fenced blocks GitHub turns into something other than code: a suggestion that can be applied,
# diagrams and maps (which load their content). Model text gets plain code blocks only.
_LIVE_FENCE_INFO = frozenset({"suggestion", "mermaid", "geojson", "topojson", "stl", "math", "ascii-math"})
_CATEGORY_ORDER = ("lint", "test", "risk")
_SEVERITY_ORDER = ("critical", "major", "minor", "nit")


class _FenceTracker:
    """Follow CommonMark fenced code blocks line by line (top level only)."""

    def __init__(self) -> None:
        self.open: str | None = None  # the opening fence run while inside a block

    def feed(self, line: str) -> bool:
        """Consume one line; return whether it belongs to a fenced block (fence lines included)."""
        if self.open is None:
            match = _FENCE_OPEN.match(line)
            if match is None or (match.group(1)[0] == "`" and "`" in match.group(2)):
                return False
            self.open = match.group(1)
            return True
        stripped = line.rstrip(" \t")
        indent = len(stripped) - len(stripped.lstrip(" "))
        run = stripped.lstrip(" ")
        if indent <= 3 and len(run) >= len(self.open) and run == run[0] * len(run) and run[0] == self.open[0]:
            self.open = None
        return True


def _escape_inline(text: str, table: dict[int, str] = _HTML, links: LinkPolicy = NO_LINKS) -> str:
    """Escape HTML, links and images in `text` except inside code spans, which GitHub shows literally."""
    runs = list(_BACKTICKS.finditer(text))
    closer: dict[int, int] = {}
    last_of_length: dict[int, int] = {}
    for i in range(len(runs) - 1, -1, -1):
        length = len(runs[i].group())
        if length in last_of_length:
            closer[i] = last_of_length[length]
        last_of_length[length] = i
    out: list[str] = []
    pos = 0
    i = 0
    while i < len(runs):
        run = runs[i]
        out.append(neutralise_links(text[pos : run.start()], table, links))
        if i in closer and not _backslash_escaped(text, run.start()):
            end = runs[closer[i]].end()
            out.append(text[run.start() : end])
            pos, i = end, closer[i] + 1
        else:
            # Literal here, but a bare backtick could pair with one in text we put after it (a code
            # span of ours) and turn what lies between into raw markdown. An entity never pairs.
            # (A backslash-escaped backtick is already inert and reads better as itself.)
            escaped = _backslash_escaped(text, run.start())
            out.append("`" * escaped + "&grave;" * (len(run.group()) - escaped))
            pos, i = run.end(), i + 1
    out.append(neutralise_links(text[pos:], table, links))
    return "".join(out)


def _backslash_escaped(text: str, index: int) -> bool:
    count = 0
    while index - count > 0 and text[index - count - 1] == "\\":
        count += 1
    return count % 2 == 1


def _neutralise_pings(text: str) -> str:
    # Applied inside code too: our fence tracking cannot see every container GitHub can (a fence in
    # a list item ends with the item), and an invisible character is cheaper than a stray ping.
    return _ISSUE_REF.sub("#" + _ZWSP, _MENTION.sub("@" + _ZWSP, text))


def _plain_fence(line: str) -> str:
    """Return a fence-opening line with an info string GitHub would render live replaced by `text`."""
    match = _FENCE_OPEN.match(line)
    assert match is not None
    info = match.group(2).strip()
    if info.split(" ", 1)[0].lower() not in _LIVE_FENCE_INFO:
        return line
    return line[: match.start(2)] + "text"


def neutralise(text: str, links: LinkPolicy = NO_LINKS) -> str:
    """Return model-written markdown safe to embed in our bodies: no pings, HTML, images, foreign links;
    fences closed."""
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    out: list[str] = []
    paragraph: list[str] = []
    fences = _FenceTracker()

    def flush() -> None:
        if paragraph:
            out.append(_escape_inline("\n".join(paragraph), links=links))
            paragraph.clear()

    for line in lines:
        opening = fences.open is None
        if fences.feed(line):
            flush()
            out.append(_plain_fence(line) if opening else line)
        elif line.strip():
            paragraph.append(line)
        else:
            flush()
            out.append(line)
    flush()
    if fences.open is not None:
        out.append(fences.open)
    return _neutralise_pings("\n".join(out))


def neutralise_line(text: str, limit: int = MAX_TITLE) -> str:
    """Return model text as one safe line (for titles), shortened to `limit` characters."""
    flat = " ".join(text.split())
    if len(flat) > limit:
        flat = flat[: limit - 1].rstrip() + "\N{HORIZONTAL ELLIPSIS}"
    return _neutralise_pings(_escape_inline(flat, _HTML_AND_EMPHASIS))


def code_span(text: str) -> str:
    """Return `text` as one inline code span whatever backticks or line breaks it holds."""
    flat = text.replace("\r", "\\r").replace("\n", "\\n")
    if not flat:
        return "` `"
    longest = max((len(m.group()) for m in _BACKTICKS.finditer(flat)), default=0)
    fence = "`" * (longest + 1)
    pad = " " if flat[0] in "` " or flat[-1] in "` " else ""
    return f"{fence}{pad}{flat}{pad}{fence}"


def not_understood(command_text: str, reason: str) -> str:
    """Return the reply's first line for a command we could not parse, its text shown verbatim as code."""
    return f"I did not understand {code_span(command_text)}: {reason}"


def code_block(code: str, info: str = "") -> str:
    """Return a fenced block that no line of `code` can close early."""
    # A lone CR ends a line for GitHub too: left in, it would start an unindented line that ends a
    # list item's block early (and what follows would be live markdown).
    code = code.replace("\r\n", "\n").replace("\r", "\n")
    longest = max((len(m.group()) for m in _BACKTICKS.finditer(code)), default=0)
    fence = "`" * max(3, longest + 1)
    if code.endswith("\n"):
        code = code[:-1]
    if not code:
        return f"{fence}{info}\n{fence}"
    return f"{fence}{info}\n{code}\n{fence}"


def fit(raw: str, budget: int, links: LinkPolicy = NO_LINKS) -> str:
    """Neutralise `raw`, cutting it at a line boundary first when the result would exceed `budget`."""
    text = neutralise(raw, links)
    if len(text) <= budget:
        return text
    note = "\n\n_\N{HORIZONTAL ELLIPSIS} truncated_"
    cut = min(len(raw), max(budget - len(note), 0))
    while True:
        head = raw[:cut]
        newline = head.rfind("\n")
        if newline > 0:
            head = head[:newline]
        # Cut the raw text, not the neutralised one: a cut inside a code span would otherwise leave
        # its unescaped content in plain text.
        text = neutralise(head, links) + note
        if len(text) <= budget or cut == 0:
            return text if len(text) <= budget else ""
        cut = min(len(head), cut * 9 // 10)


def _headline(finding: Finding) -> str:
    emoji = _SEVERITY_EMOJI.get(finding.severity, "")
    title = neutralise_line(finding.title)
    return f"**{emoji} {finding.category.value} \N{MIDDLE DOT} {finding.severity.value}: {title}**"


def comment_body(placed: PlacedComment, fp: str, limit: int = MAX_BODY, links: LinkPolicy = NO_LINKS) -> str:
    """Return the body of one inline review comment, ending with its fingerprint marker."""
    finding = placed.finding
    head = _headline(finding)
    tail: list[str] = []
    if finding.suggestion is not None:
        if placed.suggestion_applicable:
            tail.append(code_block(finding.suggestion, "suggestion"))
        else:
            tail.append("Suggested change:\n\n" + code_block(finding.suggestion))
    tail.append(marker(fp))
    separators = 2 * (len(tail) + 1)
    body_room = min(1_000, limit // 4)  # a suggestion may not crowd out the explanation entirely
    if len(head) + sum(map(len, tail)) + separators + body_room > limit:
        tail[:-1] = ["_The suggested change is too long to post._"] if finding.suggestion is not None else []
    budget = limit - len(head) - sum(map(len, tail)) - 2 * (len(tail) + 1)
    body = fit(finding.body, budget, links)
    return "\n\n".join(part for part in (head, body, *tail) if part)


@dataclass
class ReviewSummary:
    """Everything the review's summary body reports about one run."""

    head_sha: str
    files_reviewed: int = 0
    files_total: int = 0
    lines_total: int = 0
    lines_sent: int = 0
    skipped: list[tuple[str, str, int]] = field(default_factory=list)  # path, reason, changed lines
    failed_chunks: list[tuple[str, str]] = field(default_factory=list)  # "path (part k/n)", error
    counts: dict[str, int] = field(default_factory=dict)  # by category, posted inline + notes
    severity_counts: dict[str, int] = field(default_factory=dict)
    file_notes: list[FileNote] = field(default_factory=list)
    pr_notes: list[PrNote] = field(default_factory=list)
    inline_count: int = 0
    suppressed_count: int = 0  # below thresholds or over the cap; counted, not posted
    duplicates_skipped: int = 0
    dropped_count: int = 0
    prompt_tokens: int = 0
    cached_tokens: int = 0
    completion_tokens: int = 0
    reasoning_tokens: int = 0
    context_tokens: int = 0  # part of prompt_tokens: read-only context around the hunks (estimated)
    model_calls: int = 0
    cost_usd: float = 0.0
    duration_s: float = 0.0
    run_url: str = ""
    notices: list[str] = field(default_factory=list)
    fingerprints: list[str] = field(default_factory=list)  # of the notes, so their dedup survives too
    links: LinkPolicy = NO_LINKS  # where links in model text may point (the PR's own repository)
    spend: str = ""  # the installation's model spend today, e.g. "$1.20 of $5.00 spent today (UTC) ..."


def _ordered(counts: dict[str, int], order: tuple[str, ...]) -> list[tuple[str, int]]:
    known = [(key, counts[key]) for key in order if counts.get(key)]
    rest = sorted((key, n) for key, n in counts.items() if key not in order and n)
    return known + rest


def _plural(n: int, word: str) -> str:
    return f"{n:,} {word}" if n == 1 else f"{n:,} {word}s"


def _summary_headline(s: ReviewSummary) -> str:
    total = sum(s.counts.values())
    if total == 0:
        return "**mini-review**: no findings."
    by_category = " \N{MIDDLE DOT} ".join(f"{n:,} {key}" for key, n in _ordered(s.counts, _CATEGORY_ORDER))
    by_severity = ", ".join(f"{n:,} {key}" for key, n in _ordered(s.severity_counts, _SEVERITY_ORDER))
    severity = f" ({by_severity})" if by_severity else ""
    return f"**mini-review**: {_plural(total, 'finding')}: {by_category}{severity}."


def _coverage(s: ReviewSummary) -> str:
    sentence = (
        f"Reviewed {s.lines_sent:,} of {_plural(s.lines_total, 'changed line')} "
        f"in {s.files_reviewed:,} of {_plural(s.files_total, 'file')}"
    )
    if s.skipped:
        reasons = Counter(reason for _, reason, _ in s.skipped)
        detail = ", ".join(f"{n:,} {neutralise_line(reason)}" for reason, n in reasons.most_common())
        sentence += f"; skipped {_plural(len(s.skipped), 'file')} ({detail})"
    if s.failed_chunks:
        sentence += f"; {_plural(len(s.failed_chunks), 'part')} could not be reviewed"
    extras = []
    if s.inline_count:
        extras.append(f"{_plural(s.inline_count, 'inline comment')} posted")
    if s.suppressed_count:
        extras.append(f"{_plural(s.suppressed_count, 'finding')} below the configured thresholds not posted")
    if s.duplicates_skipped:
        extras.append(f"{_plural(s.duplicates_skipped, 'repeat')} of earlier comments skipped")
    if s.dropped_count:
        extras.append(f"{_plural(s.dropped_count, 'finding')} about files outside this PR dropped")
    return sentence + "." + ("\n\n" + " \N{MIDDLE DOT} ".join(extras) + "." if extras else "")


def _not_reviewed(s: ReviewSummary) -> list[str]:
    entries = [
        f"- {code_span(path)}: {neutralise_line(reason)} ({_plural(lines, 'changed line')})"
        for path, reason, lines in s.skipped
    ]
    entries += [
        f"- {code_span(label)}: review failed: {neutralise_line(error, 500)}"
        for label, error in s.failed_chunks
    ]
    blocks = []
    for start in range(0, len(entries), SKIPPED_PER_DETAILS):
        part = entries[start : start + SKIPPED_PER_DETAILS]
        if len(entries) > SKIPPED_PER_DETAILS:
            label = f"Not reviewed ({start + 1:,}\N{EN DASH}{start + len(part):,} of {len(entries):,})"
        else:
            label = f"Not reviewed ({len(entries):,})"
        blocks.append(f"<details>\n<summary>{label}</summary>\n\n" + "\n".join(part) + "\n\n</details>")
    return blocks


def _indent(text: str) -> str:
    return "\n".join(f"  {line}" if line else "" for line in text.split("\n"))


def _note(finding: Finding, where: str, reason: str, links: LinkPolicy) -> str:
    lines = [f"- {_headline(finding)}{where} \N{EM DASH} _{neutralise_line(reason)}_"]
    body = fit(finding.body, NOTE_BODY_CHARS, links)
    if body:
        lines.append(_indent(body))
    if finding.suggestion is not None:
        lines.append(_indent("Suggested change:\n\n" + code_block(finding.suggestion)))
    return "\n\n".join(lines)


def _footer(s: ReviewSummary) -> str:
    reasoning = f", {s.reasoning_tokens:,} reasoning" if s.reasoning_tokens else ""
    tokens = f"{s.prompt_tokens:,} in ({s.cached_tokens:,} cached) / {s.completion_tokens:,} out{reasoning}"
    parts = [
        f"Commit {code_span(s.head_sha[:12])}" if s.head_sha else "",
        f"Files {s.files_reviewed:,}/{s.files_total:,}",
        f"tokens {tokens}",
        f"context {s.context_tokens:,} tokens" if s.context_tokens else "",
        f"{_plural(s.model_calls, 'model call')}" if s.model_calls else "",
        f"${s.cost_usd:.4f}",
        f"{s.duration_s:.1f} s",
        s.spend,
    ]
    line = " \N{MIDDLE DOT} ".join(part for part in parts if part)
    link = _link("Full run", s.run_url)
    return f"<sub>{line}</sub>" + (f"\n\n{link}" if link else "")


def _link(label: str, url: str) -> str:
    if not re.fullmatch(r"https?://[^\s<>()\[\]`]+", url):
        return ""
    return f"[{label}]({url})"


def notes_section(s: ReviewSummary) -> list[str]:
    """Return the summary's notes (findings not placed inline) under their heading; [] when none."""
    notes = [_note(n.finding, f" in {code_span(n.path)}", n.reason, s.links) for n in s.file_notes]
    notes += [_note(n.finding, "", n.reason, s.links) for n in s.pr_notes]
    return ["**Not placed on a line of the diff**", *notes] if notes else []


def summary_body(s: ReviewSummary) -> str:
    """Return the review's summary: counts, coverage, what was not reviewed, notes, run footer."""
    parts = [f"> \N{WARNING SIGN}\N{VARIATION SELECTOR-16} {neutralise_line(n, 1_000)}" for n in s.notices]
    parts += [_summary_headline(s), _coverage(s)]
    parts += _not_reviewed(s)
    parts += notes_section(s)
    parts.append(_footer(s))
    parts += [marker(fp) for fp in s.fingerprints]
    return "\n\n".join(parts)


REVIEW_FAILED_TITLE = "**mini-review could not review this pull request.**"


def review_failed(reason: str, run_url: str) -> str:
    """Return the body posted when no part of the PR could be reviewed."""
    parts = [
        REVIEW_FAILED_TITLE,
        neutralise_line(reason, 1_000),
        _link("Full run", run_url),
    ]
    return "\n\n".join(part for part in parts if part)


def split_body(text: str, limit: int = MAX_BODY) -> list[str]:
    """Split `text` into parts of at most `limit` characters that join back to `text`.

    Cuts fall on line ends, outside code fences and <details> blocks when possible; a single line
    longer than `limit` is cut inside. The first part is the review body, the rest become follow-up comments.
    """
    if limit <= 0:
        raise ValueError("limit must be positive")
    if len(text) <= limit:
        return [text]
    lines = text.split("\n")
    pieces = [line + "\n" for line in lines[:-1]] + ([lines[-1]] if lines[-1] else [])
    fences = _FenceTracker()
    safe_after: list[bool] = []
    details = 0  # our own <details> blocks; model text cannot open one (its HTML is escaped)
    for line in pieces:
        if not fences.feed(line.rstrip("\n")):
            tag = line.strip()
            details += (tag == "<details>") - (tag == "</details>" and details > 0)
        safe_after.append(fences.open is None and details == 0)

    parts: list[str] = []
    current: list[tuple[str, bool]] = []  # pieces of the part being built, and "safe to cut after"
    size = 0
    for piece, safe in zip(pieces, safe_after, strict=True):
        while current and size + len(piece) > limit:
            safe_ends = [i for i, (_, ok) in enumerate(current) if ok]
            cut = safe_ends[-1] + 1 if safe_ends else len(current)
            parts.append("".join(text for text, _ in current[:cut]))
            current = current[cut:]
            size = sum(len(text) for text, _ in current)
        while len(piece) > limit:
            parts.append(piece[:limit])
            piece = piece[limit:]
        current.append((piece, safe))
        size += len(piece)
    if current:
        parts.append("".join(text for text, _ in current))
    return parts

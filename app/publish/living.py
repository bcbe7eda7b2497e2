"""The one living summary comment of a PR: found again, rewritten on every run, history folded in.

Reviews carry only their inline comments and a one-line body; everything else a run has to say
(coverage, findings by category, notes that could not be placed, skips, tokens, cost) lives in one
PR conversation comment that each run edits in place. The comment is recognised by a hidden marker
and bot authorship; earlier runs are kept as a compact table inside `<details>`, carried from one
version of the comment to the next in a hidden, validated marker (the database may be lost; the
comment is the record GitHub keeps). Note fingerprints of earlier runs are carried forward too, so
the dedup that reads them back from GitHub keeps working after the comment is rewritten.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Iterable
from dataclasses import replace

from pydantic import BaseModel, ConfigDict, ValidationError

from app.publish.fingerprint import marker, markers_in
from app.publish.markdown import (
    MAX_BODY,
    ReviewSummary,
    code_span,
    neutralise_line,
    notes_section,
    split_body,
    summary_body,
)

__all__ = [
    "SUMMARY_MARKER",
    "RunEntry",
    "history_in",
    "is_living_summary",
    "job_marker",
    "render_living_summary",
    "review_body",
]

SUMMARY_MARKER = "<!-- mini-review:summary -->"
MAX_HISTORY = 30
MAX_CARRIED_MARKERS = 400
MAX_EARLIER_NOTES_CHARS = 20_000
_NOTES_OPEN, _NOTES_CLOSE = "<!-- mini-review:notes -->", "<!-- /mini-review:notes -->"
_HISTORY = re.compile(r"^<!-- mini-review:history=([A-Za-z0-9+/=]{0,40000}) -->$", re.M)
_URL = re.compile(r"https?://[^\s<>()\[\]`|]+")
_JOB_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")
_TRUNCATED = "\n\n_\N{HORIZONTAL ELLIPSIS} truncated: the run page lists everything._"


FAILED_NOTE = "failed"  # the history note of a run whose every chunk failed


class RunEntry(BaseModel):
    """One run, as the history table shows it."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    head: str
    mode: str
    at: str  # ISO time, UTC
    findings: int = 0
    inline: int = 0
    prompt_tokens: int = 0
    cost_usd: float = 0.0
    run_url: str = ""
    note: str = ""
    job: str = ""  # the job's planned run id: a retry's line replaces its earlier attempt's


def is_living_summary(body: str) -> bool:
    return body.startswith(SUMMARY_MARKER)


def history_in(body: str) -> list[RunEntry]:
    """Return the run history an earlier version of the summary carried ([] when unreadable)."""
    match = _HISTORY.search(body)
    if match is None:
        return []
    try:
        raw = json.loads(base64.b64decode(match.group(1), validate=True))
        if not isinstance(raw, list):
            return []
        return [RunEntry.model_validate(item) for item in raw[-MAX_HISTORY:]]
    except (binascii.Error, ValueError, ValidationError):
        return []


def _history_marker(entries: list[RunEntry]) -> str:
    data = json.dumps([e.model_dump() for e in entries], separators=(",", ":")).encode()
    return f"<!-- mini-review:history={base64.b64encode(data).decode()} -->"


def _history_table(entries: list[RunEntry]) -> str:
    rows = [
        "| # | when (UTC) | commit | review | findings | inline | tokens in | cost | run |",
        "|" + "---|" * 9,
    ]
    for number, e in reversed(list(enumerate(entries, start=1))):
        link = f"[open]({e.run_url})" if _URL.fullmatch(e.run_url) else ""
        mode = neutralise_line(e.mode + (f": {e.note}" if e.note else ""), 160).replace("|", "\\|")
        when = neutralise_line(e.at[:16].replace("T", " "), 20)
        rows.append(
            f"| {number} | {when} | {code_span(e.head[:7])} | {mode} "
            f"| {e.findings:,} | {e.inline:,} | {e.prompt_tokens:,} | ${e.cost_usd:.4f} | {link} |"
        )
    return (
        f"<details>\n<summary>Run history ({len(entries)})</summary>\n\n" + "\n".join(rows) + "\n\n</details>"
    )


def _carried(previous: str, fresh: Iterable[str]) -> list[str]:
    prints = list(dict.fromkeys([*fresh, *sorted(markers_in(previous))]))
    return prints[:MAX_CARRIED_MARKERS]


def _notes_in(body: str) -> str:
    """Return the notes an earlier version showed (its own and those it carried), as posted."""
    start = body.find(_NOTES_OPEN)
    end = body.find(_NOTES_CLOSE, start + 1)
    if start < 0 or end < 0:
        return ""
    return body[start + len(_NOTES_OPEN) : end].strip()


def _notes_block(summary: ReviewSummary, previous: str) -> str:
    """This run's notes, then earlier runs' (folded): a note is never lost by a rewrite.

    Earlier notes are our own text read back from our own comment: already sanitized when posted.
    Notes are deduplicated by fingerprint before they reach a summary, so none is carried twice.
    """
    current = "\n\n".join(notes_section(summary))
    earlier = _notes_in(previous)
    for heading in ("**Not placed on a line of the diff**",):
        earlier = earlier.replace(heading, "")
    earlier = earlier.replace("<details>\n<summary>Notes from earlier runs</summary>", "")
    earlier = earlier.replace("</details>", "").strip()
    if len(earlier) > MAX_EARLIER_NOTES_CHARS:
        earlier = split_body(earlier, MAX_EARLIER_NOTES_CHARS)[0].rstrip() + _TRUNCATED
    parts = [current] if current else []
    if earlier:
        parts.append(f"<details>\n<summary>Notes from earlier runs</summary>\n\n{earlier}\n\n</details>")
    return f"{_NOTES_OPEN}\n" + "\n\n".join(parts) + f"\n{_NOTES_CLOSE}" if parts else ""


def render_living_summary(summary: ReviewSummary, entry: RunEntry, previous: str = "") -> str:
    """Return the summary comment's new body: this run's summary, notes, history, carried markers."""
    earlier = [e for e in history_in(previous) if not (entry.job and e.job == entry.job)]
    entries = [*earlier, entry][-MAX_HISTORY:]
    prints = _carried(previous, summary.fingerprints)
    main = summary_body(replace(summary, file_notes=[], pr_notes=[], fingerprints=[]))
    notes = _notes_block(summary, previous)
    tail = "\n\n".join([_history_table(entries), _history_marker(entries), *map(marker, prints)])
    room = MAX_BODY - len(SUMMARY_MARKER) - len(tail) - 8
    if notes and len(main) + len(notes) > room:
        notes = ""  # over the limit: the notes stay on the run page; the summary says so
        main += "\n\n_Notes not placed inline did not fit here: the run page lists every finding._"
    if len(main) > room:
        main = split_body(main, max(room - len(_TRUNCATED), 1))[0].rstrip("\n") + _TRUNCATED
    body = "\n\n".join(part for part in (main, notes) if part)
    return f"{SUMMARY_MARKER}\n{body}\n\n{tail}"


def job_marker(job_id: str) -> str:
    """The hidden line a review carries to name its job: a retry finds what an earlier attempt posted."""
    return f"<!-- mini-review:job={job_id} -->" if _JOB_ID.fullmatch(job_id) else ""


def review_body(inline_count: int, run_url: str, job_id: str = "") -> str:
    """Return the short body of a review: what it adds, where the rest is (and, hidden, its job)."""
    comments = f"{inline_count:,} new inline comment{'s' if inline_count != 1 else ''}"
    link = f" \N{MIDDLE DOT} [Full run]({run_url})" if _URL.fullmatch(run_url) else ""
    body = f"**mini-review**: {comments}; the summary comment of this PR has the rest{link}."
    marker = job_marker(job_id)
    return f"{body}\n\n{marker}" if marker else body

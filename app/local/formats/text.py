"""The human report: findings grouped by file with their code line, then the usual footer."""

from __future__ import annotations

import textwrap

from app.diff.model import Side
from app.local.engine import LocalFinding, LocalReport
from app.local.formats.terminal import printable

_SEVERITY_COLOUR = {"critical": "1;31", "major": "31", "minor": "33", "nit": "36"}


class _Style:
    def __init__(self, colour: bool) -> None:
        self.colour = colour

    def __call__(self, text: str, code: str) -> str:
        return f"\x1b[{code}m{text}\x1b[0m" if self.colour else text


def _where(item: LocalFinding) -> str:
    if item.line is None:
        return "file"
    span = f"{item.start_line}-{item.line}" if item.start_line is not None else str(item.line)
    return f"L{span}" + (" (removed)" if item.side is Side.LEFT else "")


def _finding_lines(item: LocalFinding, style: _Style) -> list[str]:
    f = item.finding
    severity = style(f.severity.value, _SEVERITY_COLOUR.get(f.severity.value, "0"))
    lines = [f"  {_where(item):<10} {severity} {f.category.value}: {style(printable(f.title), '1')}"]
    if item.code is not None:
        lines.append("    " + style("│ " + printable(item.code.strip())[:160], "2"))
    body = textwrap.fill(printable(f.body), width=96, initial_indent="    ", subsequent_indent="    ")
    if body.strip():
        lines.append(body)
    if f.suggestion:
        lines.append("    suggested change:")
        lines += ["      " + printable(s) for s in f.suggestion.splitlines()[:20]]
    return lines


def _footer(report: LocalReport, style: _Style) -> list[str]:
    u = report.usage
    lines = [
        style("─" * 60, "2"),
        f"{len(report.findings)} finding(s) in {report.files_reviewed} file(s) reviewed "
        f"({len(report.plan.chunks)} chunk(s)); {report.below_threshold} below the thresholds",
    ]
    for skipped in report.skipped:
        detail = f" ({skipped.detail})" if skipped.detail else ""
        lines.append(f"  not reviewed: {printable(skipped.path)}: {skipped.reason.value}{detail}")
    for failed in report.failed:
        lines.append(style(f"  failed: {printable(failed.path)} part {failed.part}: {failed.error}", "31"))
    for unsent in report.not_sent:
        lines.append(f"  not sent: {printable(unsent.path)} part {unsent.part}: {unsent.error}")
    lines.append(
        f"tokens: {u.prompt_tokens:,} prompt ({u.cached_tokens:,} cached), {u.completion_tokens:,} completion"
        f" in {u.calls} call(s) · cost ${report.cost_usd:.4f} · {report.duration_s:.1f} s"
    )
    return lines


def render_text(report: LocalReport, *, colour: bool = False) -> str:
    """Return the whole text report, ending with a newline."""
    style = _Style(colour)
    out: list[str] = []
    current = None
    for item in report.findings:
        if item.path != current:
            current = item.path
            out.append("")
            out.append(style(printable(item.path or "(the change as a whole)"), "1;4"))
        out += _finding_lines(item, style)
    if not report.findings:
        out.append("No findings.")
    out.append("")
    out += _footer(report, style)
    return "\n".join(out).lstrip("\n") + "\n"

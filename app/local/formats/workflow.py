"""GitHub Actions workflow commands (`--format github`): `::warning file=…,line=…::message`.

Escaping follows the runner's rules: in the message `%`, CR and LF are percent-encoded; in property
values `:` and `,` are too, so a file name or title cannot end the property list early.
"""

from __future__ import annotations

from app.local.engine import LocalFinding, LocalReport
from app.review.findings import Severity

_COMMAND = {
    Severity.CRITICAL: "error",
    Severity.MAJOR: "error",
    Severity.MINOR: "warning",
    Severity.NIT: "notice",
}


def escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def _command(item: LocalFinding) -> str:
    f = item.finding
    props = [f"file={escape_property(item.path)}"] if item.path else []
    line = item.head_line
    if line is not None:
        if item.start_line is not None and item.start_line < line:
            props.append(f"line={item.start_line}")
            props.append(f"endLine={line}")
        else:
            props.append(f"line={line}")
    props.append(f"title={escape_property(f'mini-review {f.category.value}/{f.severity.value}: {f.title}')}")
    return f"::{_COMMAND[f.severity]} {','.join(props)}::{escape_data(f.body or f.title)}"


def render_workflow_commands(report: LocalReport) -> str:
    lines = [_command(item) for item in report.findings]
    summary = f"mini-review: {len(report.findings)} finding(s), {report.files_reviewed} file(s) reviewed"
    if report.failed:
        lines.append(f"::warning title=mini-review::{escape_data(f'{len(report.failed)} chunk(s) failed')}")
    lines.append(escape_data(summary))
    return "\n".join(lines) + "\n"

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.diff.model import LineKind
from app.review.findings import Category, Severity
from app.review.redact import placeholder, redact_chunk, redact_text, shannon_entropy

from .chunk_text import make_chunk, render
from .secrets import KEY_BODY, PLANTED, PRIVATE_KEY_LINES


@pytest.mark.parametrize(("line", "secret", "kind"), PLANTED)
def test_each_known_format_is_replaced_by_its_placeholder(line: str, secret: str, kind: str) -> None:
    text, kinds = redact_text(line)
    assert secret not in text
    assert kinds == [kind]
    assert placeholder(kind) in text


@pytest.mark.parametrize(
    "line",
    [
        "password = settings.DB_PASSWORD",
        "token = get_token(request)",
        'password_hash_algorithm = "pbkdf2_sha256"',
        'password = "test-password-123"',
        "api_key: ${API_KEY}",
        'secret_key = os.environ["SECRET_KEY"]',
        'auth_url = "https://api.mycompany.com/oauth/authorize"',
        "def refresh_token(self, token: str) -> str:",
        "risk-assessment-module-2024-version",
        "DATABASE_URL=postgres://postgres:postgres@localhost/app",
        'password = "changeme-0123456789"',
    ],
)
def test_ordinary_code_is_left_alone(line: str) -> None:
    assert redact_text(line) == (line, [])


def test_password_inside_a_url_is_redacted_but_the_url_kept() -> None:
    text, kinds = redact_text("DATABASE_URL=postgres://app:Xk9f2LqP7vZr3mWt@db:5432/app")
    assert text == f"DATABASE_URL=postgres://app:{placeholder('url-password')}@db:5432/app"
    assert kinds == ["url-password"]


def test_private_key_block_in_one_text_is_replaced_whole() -> None:
    text, kinds = redact_text("before\n" + "\n".join(PRIVATE_KEY_LINES) + "\nafter")
    assert text == f"before\n{placeholder('private-key')}\nafter"
    assert kinds == ["private-key"]


def test_entropy_separates_random_from_repetitive() -> None:
    assert shannon_entropy("aaaaaaaaaaaa") == 0.0
    assert shannon_entropy("abcd") == 2.0
    assert shannon_entropy("") == 0.0


def test_chunk_secrets_are_gone_from_the_rendered_text_and_reported_per_added_line() -> None:
    lines = (
        [(" ", "import os")] + [("+", line) for line, _, _ in PLANTED] + [("-", f"old = '{PLANTED[0][1]}'")]
    )
    chunk = make_chunk("app/settings.py", lines, new_start=1, old_start=1)
    redacted, findings = redact_chunk(chunk)
    text = render(redacted)
    for _, secret, _ in PLANTED:
        assert secret not in text
    assert "import os" in text
    # one finding per added line with a secret, on the right new-file line, never quoting it
    assert [f.line for f in findings] == list(range(2, 2 + len(PLANTED)))
    for finding in findings:
        assert finding.category is Category.RISK
        assert finding.severity is Severity.CRITICAL
        assert finding.side == "new"
        assert finding.quote == ""
        assert finding.path == "app/settings.py"
        dumped = finding.model_dump_json()
        for _, secret, _ in PLANTED:
            assert secret not in dumped
    # the original chunk is untouched
    assert PLANTED[0][1] in render(chunk)


def test_multi_line_private_key_is_blanked_and_reported_once() -> None:
    lines = [(" ", "KEY = '''")] + [("+", line) for line in PRIVATE_KEY_LINES] + [(" ", "'''")]
    redacted, findings = redact_chunk(make_chunk("k.py", lines, new_start=1))
    text = render(redacted)
    for body in KEY_BODY:
        assert body not in text
    assert "KEY = '''" in text
    assert [f.line for f in findings] == [2]


def test_key_body_before_an_end_marker_is_blanked_when_the_chunk_starts_mid_key() -> None:
    lines = [("+", line) for line in PRIVATE_KEY_LINES[1:]] + [("+", "x = 1")]
    redacted, findings = redact_chunk(make_chunk("k.pem", lines, new_start=2, part=2, parts=2))
    text = render(redacted)
    for body in KEY_BODY:
        assert body not in text
    assert "x = 1" in text
    assert len(findings) == 1


def test_removed_and_context_secrets_are_redacted_but_not_reported() -> None:
    line, secret, _ = PLANTED[1]
    redacted, findings = redact_chunk(make_chunk("a.py", [(" ", line), ("-", line)]))
    assert secret not in render(redacted)
    assert findings == []
    assert [ln.kind for ln in redacted.hunks[0].lines] == [LineKind.CONTEXT, LineKind.REMOVED]


def test_clean_chunk_is_returned_unchanged() -> None:
    chunk = make_chunk("a.py", [("+", "x = 1"), (" ", "y = 2")])
    redacted, findings = redact_chunk(chunk)
    assert findings == []
    assert render(redacted) == render(chunk)


@given(st.text(max_size=200), st.sampled_from(PLANTED), st.text(max_size=200))
def test_planted_secret_never_survives_surrounding_text(
    before: str, planted: tuple[str, str, str], after: str
) -> None:
    line, secret, _ = planted
    text, kinds = redact_text(before + "\n" + line + "\n" + after)
    assert secret not in text
    assert kinds


@given(st.text(max_size=300))
def test_redaction_is_idempotent(text: str) -> None:
    once, _ = redact_text(text)
    assert redact_text(once) == (once, [])


def test_our_own_code_is_never_redacted() -> None:
    # Real code that is always here: every line of app/ except the redactor's own list of secret kinds.
    app = Path(__file__).resolve().parents[3] / "app"
    flagged = [
        line
        for source in sorted(app.rglob("*.py"))
        if source.name != "redact.py"
        for line in source.read_text("utf-8").split("\n")
        if redact_text(line)[1]
    ]
    assert flagged == []


@pytest.mark.slow
def test_real_code_in_the_corpus_is_almost_never_redacted(corpus: Path) -> None:
    flagged: list[str] = []
    for diff in sorted((corpus / "diffs").glob("*.diff")):
        for raw in diff.read_bytes().split(b"\n"):
            line = raw.decode("utf-8", "replace")
            if redact_text(line)[1]:
                flagged.append(line)
    # The only hits are two URL-parser test vectors with punctuation-soup "passwords" in httpx.
    assert len(flagged) <= 2, flagged[:10]

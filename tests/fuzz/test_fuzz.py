"""Fuzz the parsers and the renderer with a small budget (bench/fuzz.py runs the same with a large one)."""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.main import create_app
from app.settings import load_settings
from app.webhooks.signature import sign
from tests.fakes.github import app_keys
from tests.fuzz import targets as t

SMALL = settings(max_examples=120, deadline=None, suppress_health_check=list(HealthCheck), database=None)


@SMALL
@given(t.markdown_text, t.markdown_text)
def test_fuzz_markdown_renderer(text: str, title: str) -> None:
    t.check_markdown(text, title)


@SMALL
@given(t.command_text)
def test_fuzz_command_parsing(body: str) -> None:
    t.check_commands(body)


@SMALL
@given(st.none() | t.config_text, st.none() | t.config_text, t.markdown_text, st.text(max_size=30))
def test_fuzz_repo_config_loader(org: str | None, repo: str | None, title: str, path: str) -> None:
    t.check_config(org, repo, title, path)


@SMALL
@given(t.patch_text, st.sampled_from(t.STATUSES), st.integers(0, 5), st.integers(0, 5))
def test_fuzz_file_patch_parsing(patch: str, status: str, additions: int, deletions: int) -> None:
    t.check_patch(patch, status, additions, deletions)


@SMALL
@given(t.patch_text.map(lambda s: s.encode("utf-8", "surrogateescape")))
def test_fuzz_unified_diff_parsing(data: bytes) -> None:
    t.check_unified(data)


@SMALL
@given(t.webhook_payloads())
def test_fuzz_webhook_intents(case: tuple[str, Any]) -> None:
    t.check_decide(*case)


SECRET = "fuzz-secret"
ANSWERS = {200, 202, 400, 401, 413}


def fuzz_app(db: Path) -> Any:
    values: dict[str, Any] = {
        "GITHUB_APP_ID": 1,
        "GITHUB_APP_PRIVATE_KEY": app_keys()[0],
        "GITHUB_WEBHOOK_SECRET": SECRET,
        "GITHUB_API_URL": "http://127.0.0.1:9",  # never called: the receiver makes no GitHub call
        "OPENAI_API_KEY": "sk-fuzz",
        "DATABASE_URL": f"sqlite+aiosqlite:///{db}",
        "MINI_WORKER": "off",
    }
    return create_app(load_settings(**values))


def post(client: TestClient, event: str, body: bytes, headers: dict[str, str]) -> int:
    sent = {
        "X-GitHub-Event": event,
        "X-GitHub-Delivery": str(uuid.uuid4()),
        "X-Hub-Signature-256": sign(SECRET.encode(), body),
        **headers,
    }
    return client.post("/webhooks/github", content=body, headers=sent).status_code


body_bytes = st.one_of(
    st.binary(max_size=300),
    t.webhook_payloads().map(lambda case: json.dumps(case[1]).encode()),
)
header_noise = st.dictionaries(
    st.sampled_from(["Content-Type", "X-Hub-Signature-256", "X-GitHub-Delivery", "X-GitHub-Event"]),
    st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=126), max_size=40),
    max_size=2,
)


def test_fuzz_webhook_endpoint(tmp_path: Path) -> None:
    """Signed or not, any body and headers get one of the documented answers, never a 500."""
    with TestClient(fuzz_app(tmp_path / "fuzz.db"), raise_server_exceptions=True) as client:

        @settings(max_examples=80, deadline=None, suppress_health_check=list(HealthCheck), database=None)
        @given(st.sampled_from(t.EVENTS), body_bytes, header_noise)
        def one(event: str, body: bytes, headers: dict[str, str]) -> None:
            assert post(client, event, body, headers) in ANSWERS

        one()

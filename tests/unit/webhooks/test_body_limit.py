"""The webhook endpoint refuses oversized bodies before reading or parsing them."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI

from app.deps import get_intake, get_settings
from app.settings import load_settings
from app.webhooks.routes import MAX_BODY_BYTES, declared_too_large, read_bounded, router
from tests.fakes.github import app_keys

MB = 1024 * 1024


def _app() -> FastAPI:
    app = FastAPI()
    app.include_router(router)
    settings = load_settings(
        GITHUB_APP_ID=1,
        GITHUB_APP_PRIVATE_KEY=app_keys()[0],
        GITHUB_WEBHOOK_SECRET="secret",
        OPENAI_API_KEY="sk-test",
    )
    app.dependency_overrides[get_settings] = lambda: settings
    app.dependency_overrides[get_intake] = lambda: None  # never reached: refused before parsing
    return app


class CountingStream:
    """An endless request body that counts how many chunks the server pulled."""

    def __init__(self, chunk: bytes, chunks: int) -> None:
        self.chunk = chunk
        self.chunks = chunks
        self.pulled = 0

    async def __aiter__(self) -> AsyncIterator[bytes]:
        for _ in range(self.chunks):
            self.pulled += 1
            yield self.chunk


async def _post(content: object, headers: dict[str, str]) -> httpx.Response:
    transport = httpx.ASGITransport(app=_app())
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        return await client.post("/webhooks/github", content=content, headers=headers)  # type: ignore[arg-type]


async def test_content_length_over_limit_is_refused_without_reading(caplog: pytest.LogCaptureFixture) -> None:
    stream = CountingStream(b"{" * MB, 40)
    headers = {"Content-Length": str(40 * MB), "X-GitHub-Event": "ping", "X-GitHub-Delivery": "d1"}
    with caplog.at_level(logging.WARNING):
        response = await _post(stream, headers)
    assert response.status_code == 413
    assert response.json() == {"error": "payload too large"}
    assert stream.pulled <= 1  # the transport may prefetch one chunk; the app read none of it
    assert "Content-Length over" in caplog.text


async def test_streamed_body_stops_at_the_limit() -> None:
    chunks = 200  # 200 MB if read to the end
    stream = CountingStream(b"x" * MB, chunks)
    response = await _post(stream, {"X-GitHub-Event": "ping", "X-GitHub-Delivery": "d2"})
    assert response.status_code == 413
    assert stream.pulled == MAX_BODY_BYTES // MB + 1 < chunks


async def test_body_at_the_limit_is_read_and_checked_for_a_signature() -> None:
    response = await _post(b"{}", {"X-GitHub-Event": "ping", "X-GitHub-Delivery": "d3"})
    assert response.status_code == 401


@pytest.mark.parametrize(
    ("header", "too_large"),
    [
        (None, False),
        ("12", False),
        (str(MAX_BODY_BYTES), False),
        (str(MAX_BODY_BYTES + 1), True),
        ("-5", False),
        ("lots", False),
        (" 99999999999999999999 ", True),
    ],
)
def test_declared_too_large(header: str | None, too_large: bool) -> None:
    assert declared_too_large(header) is too_large


async def test_read_bounded_returns_everything_up_to_the_limit() -> None:
    async def parts() -> AsyncIterator[bytes]:
        for piece in (b"ab", b"", b"cd"):
            yield piece

    assert await read_bounded(parts(), limit=4) == b"abcd"
    assert await read_bounded(parts(), limit=3) is None

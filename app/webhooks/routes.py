"""POST /webhooks/github: verify, record durably, answer (the applier enqueues). No GitHub or model call."""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from app.deps import IntakeDep, SettingsDep
from app.observability.logs import bind_log_context
from app.webhooks.intake import delivery_record
from app.webhooks.intents import BadPayloadError, decide
from app.webhooks.signature import is_valid_signature

log = logging.getLogger(__name__)
router = APIRouter()

MAX_BODY_BYTES = 25 * 1024 * 1024  # GitHub caps payloads at 25 MB


def _reply(status: int, **body: Any) -> JSONResponse:
    return JSONResponse(body, status_code=status)


def declared_too_large(content_length: str | None, limit: int = MAX_BODY_BYTES) -> bool:
    """Tell whether a `Content-Length` header announces more than `limit` bytes (garbage counts as no)."""
    if content_length is None or not content_length.strip().isdigit():
        return False  # absent or malformed: the streamed read below still stops at the limit
    return int(content_length) > limit


async def read_bounded(chunks: AsyncIterator[bytes], limit: int = MAX_BODY_BYTES) -> bytes | None:
    """Read a streamed body; stop pulling at the first chunk that takes it past `limit` (None then)."""
    parts: list[bytes] = []
    size = 0
    async for chunk in chunks:
        size += len(chunk)
        if size > limit:
            return None
        parts.append(chunk)
    return b"".join(parts)


@router.post("/webhooks/github")
async def receive_github_webhook(
    request: Request, settings: SettingsDep, intake: IntakeDep
) -> JSONResponse:
    delivery = request.headers.get("x-github-delivery", "")
    event = request.headers.get("x-github-event", "")
    # Refuse before reading: a stranger's body costs memory only up to the limit, whatever it claims.
    if declared_too_large(request.headers.get("content-length")):
        log.warning("webhook %s rejected: Content-Length over %d bytes", delivery or "-", MAX_BODY_BYTES)
        return _reply(413, error="payload too large")
    body = await read_bounded(request.stream())
    if body is None:
        log.warning("webhook %s rejected: streamed body over %d bytes", delivery or "-", MAX_BODY_BYTES)
        return _reply(413, error="payload too large")
    secret = settings.github_webhook_secret.get_secret_value().encode()
    if not is_valid_signature(secret, body, request.headers.get("x-hub-signature-256")):
        log.warning("webhook %s rejected: missing or invalid X-Hub-Signature-256", delivery or "-")
        return _reply(401, error="invalid signature")
    if not delivery or not event:
        log.warning("webhook rejected: missing X-GitHub-Delivery or X-GitHub-Event header")
        return _reply(400, error="missing X-GitHub-Delivery or X-GitHub-Event header")
    try:
        payload = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError):
        log.warning("webhook %s (%s) rejected: body is not JSON", delivery, event)
        return _reply(400, error="body is not JSON")
    if not isinstance(payload, dict):
        log.warning("webhook %s (%s) rejected: body is not a JSON object", delivery, event)
        return _reply(400, error="body is not a JSON object")
    if event == "ping":
        log.info("webhook %s: ping", delivery)
        return _reply(200, ok=True, zen=str(payload.get("zen", "")))
    action = payload.get("action") if isinstance(payload.get("action"), str) else None
    try:
        intent = decide(event, payload, debounce_s=settings.debounce_s)
    except BadPayloadError as exc:
        log.warning("webhook %s (%s.%s) rejected: %s", delivery, event, action, exc)
        return _reply(400, error=str(exc))
    bind_log_context(repository=intent.repo, pr=intent.pr_number)
    record = delivery_record(delivery, event, action, intent)
    # The 2xx waits for this commit: from here on the delivery and what it asks for are durable.
    if not await intake.record(record):
        log.info("webhook %s (%s.%s): redelivery, already handled", delivery, event, action)
        return _reply(202, delivery=delivery, outcome="duplicate delivery: already handled")
    log.info("webhook %s (%s.%s) %s: %s", delivery, event, action, intent.repo or "-", intent.outcome)
    if record.effects is not None:
        intake.applied_soon()
    status = 202 if intent.work or intent.cancel_key or intent.installation else 200
    return _reply(status, delivery=delivery, outcome=intent.outcome)

"""The web side of observability: GET /metrics, and a middleware that counts and tags webhook deliveries.

The middleware (pure ASGI, so the handler runs in the same context) binds the delivery id to every
log line of the request and counts the delivery by event and by the status the receiver answered.
"""

from __future__ import annotations

import logging

from fastapi import APIRouter, Response
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, generate_latest
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.deps import StoreDep
from app.observability.logs import log_context
from app.observability.metrics import record_webhook
from app.observability.queue_gauges import refresh_queue_gauges

log = logging.getLogger(__name__)
router = APIRouter()
WEBHOOK_PATH = "/webhooks/github"


@router.get("/metrics")
async def metrics(store: StoreDep) -> Response:
    """Prometheus exposition of this process's series, plus the deployment's queue gauges."""
    try:
        await refresh_queue_gauges(store.engine)
    except Exception:  # noqa: BLE001 - a database hiccup must not hide every other series
        log.warning("metrics: reading the queue depth failed", exc_info=True)
    return Response(generate_latest(REGISTRY), media_type=CONTENT_TYPE_LATEST)


def _header(scope: Scope, name: bytes, limit: int) -> str:
    for key, value in scope.get("headers", []):
        if key.lower() == name:
            return bytes(value[:limit]).decode("latin-1")
    return ""


class WebhookObserver:
    """Wrap the app: webhook deliveries get a bound delivery id and are counted by outcome."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get("path") != WEBHOOK_PATH:
            await self.app(scope, receive, send)
            return
        status = 500

        async def remember_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        # Unsigned requests reach this point too: the id is cut short and only ever logged as data.
        delivery = _header(scope, b"x-github-delivery", 64) or None
        try:
            with log_context(delivery_id=delivery):
                await self.app(scope, receive, remember_status)
        finally:
            record_webhook(_header(scope, b"x-github-event", 64), status)

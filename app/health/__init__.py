"""The web side of operating the service: GET /metrics and the webhook-observing middleware.

Kept apart from app.observability (logs, metrics: leaves that every layer may import) because these
routes read the composition root through app.deps.
"""

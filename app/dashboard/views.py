"""The run view: one model that both the run page (HTML) and `/api/runs/{id}` (JSON) render."""

from __future__ import annotations

import datetime as dt

from pydantic import field_serializer

from app.storage.models import Run


class RunView(Run):
    """A run as users see it: every stored field; times as ISO 8601 with their UTC offset."""

    @field_serializer("started_at", "finished_at")
    def _iso(self, value: dt.datetime | None) -> str | None:
        return None if value is None else value.isoformat()

    @classmethod
    def of(cls, run: Run) -> RunView:
        return cls.model_validate(run.model_dump())

    def as_json(self) -> dict[str, object]:
        return self.model_dump(mode="json")

"""Log formats and bound context: what an operator's log pipeline receives."""

from __future__ import annotations

import asyncio
import io
import json
import logging
from collections.abc import Iterator

import pytest

from app.observability.logs import (
    ContextFilter,
    bind_log_context,
    current_log_context,
    json_formatter,
    log_context,
)


@pytest.fixture
def json_lines() -> Iterator[tuple[logging.Logger, io.StringIO]]:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(ContextFilter())
    handler.setFormatter(json_formatter())
    logger = logging.getLogger("tests.observability.json")
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    logger.propagate = False
    try:
        yield logger, stream
    finally:
        logger.removeHandler(handler)


def records(stream: io.StringIO) -> list[dict[str, object]]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


def test_one_object_per_line_with_bound_ids(json_lines: tuple[logging.Logger, io.StringIO]) -> None:
    logger, stream = json_lines
    with log_context(delivery_id="d-1", repository="o/r", pr=7):
        with log_context(run_id="r-1"):
            logger.info("multi\nline %s", "message")
        logger.warning("after the run")
    logger.error("outside")
    first, second, third = records(stream)
    assert first["message"] == "multi\nline message" and first["level"] == "INFO"
    assert first["logger"] == "tests.observability.json"
    assert str(first["time"]).endswith("Z") and "T" in str(first["time"])
    assert {k: first[k] for k in ("delivery_id", "repository", "pr", "run_id")} == {
        "delivery_id": "d-1",
        "repository": "o/r",
        "pr": 7,
        "run_id": "r-1",
    }
    assert "run_id" not in second and second["delivery_id"] == "d-1"
    assert not {"delivery_id", "run_id", "repository", "pr"} & set(third)


def test_exceptions_stay_on_one_line(json_lines: tuple[logging.Logger, io.StringIO]) -> None:
    logger, stream = json_lines
    try:
        raise ValueError("bad thing")
    except ValueError:
        logger.exception("failed")
    assert len(stream.getvalue().splitlines()) == 1
    (line,) = records(stream)
    assert "ValueError: bad thing" in str(line["exc_info"])


async def test_concurrent_tasks_keep_their_own_ids(json_lines: tuple[logging.Logger, io.StringIO]) -> None:
    logger, stream = json_lines
    gate = asyncio.Event()

    async def handle(delivery: str) -> None:
        bind_log_context(delivery_id=delivery)
        await gate.wait()  # both tasks are bound before either logs
        logger.info("handling")

    tasks = [asyncio.create_task(handle(f"d-{n}")) for n in range(2)]
    await asyncio.sleep(0)
    gate.set()
    await asyncio.gather(*tasks)
    assert sorted(str(r["delivery_id"]) for r in records(stream)) == ["d-0", "d-1"]
    assert current_log_context() == {}  # the tasks' bindings never leaked into their parent


def test_unknown_fields_are_refused() -> None:
    with pytest.raises(ValueError, match="unknown log context"), log_context(token="x"):
        pass


async def test_a_bound_run_id_ends_with_its_block(json_lines: tuple[logging.Logger, io.StringIO]) -> None:
    """A worker task runs job after job: one job's ids must not stick to the next one's lines."""
    logger, stream = json_lines

    async def job(run_id: str | None) -> None:
        with log_context(repository="o/r"):
            if run_id:
                bind_log_context(run_id=run_id)
            logger.info("job")

    await job("r-1")
    await job(None)
    first, second = records(stream)
    assert first["run_id"] == "r-1" and "run_id" not in second

"""Structured logs: one JSON object per line carrying `extra=` fields and the step's
bound order, attempt and step; readable text on a terminal; never a secret."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import pytest
from structlog.contextvars import bound_contextvars

from db.api_keys import new_key
from orderengine.logs import configure_logging
from tests.unit.execution.fakes import FakeVenue, fake_context
from tests.unit.execution.test_steps import new_order
from tests.unit.execution.test_watcher import SentOrders, sent_order
from workers.actors import route_orders
from workers.process_manager.confirmation_watcher import ConfirmationWatcher


class Captured(io.StringIO):
    def __init__(self, tty: bool = False) -> None:
        super().__init__()
        self.tty = tty

    def isatty(self) -> bool:
        return self.tty

    def records(self) -> list[dict[str, object]]:
        return [json.loads(line) for line in self.getvalue().splitlines()]


@pytest.fixture
def restore_logging() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


@pytest.fixture
def captured(restore_logging: None) -> Captured:
    stream = Captured()
    configure_logging("INFO", "auto", stream)
    return stream


def test_a_record_is_one_json_object_with_its_extra_fields_and_context(
    captured: Captured,
) -> None:
    with bound_contextvars(order_id="o-1", attempt=2, step="route_and_send"):
        logging.getLogger("commands.x").warning("route: refused", extra={"error": "late"})
    (record,) = captured.records()
    assert list(record)[:4] == ["ts", "level", "logger", "event"]
    assert record["event"] == "route: refused"
    assert (record["level"], record["logger"]) == ("warning", "commands.x")
    assert (record["order_id"], record["attempt"], record["step"]) == ("o-1", 2, "route_and_send")
    assert record["error"] == "late"


def test_an_exception_is_in_the_same_line(captured: Captured) -> None:
    try:
        int("no route")
    except ValueError:
        logging.getLogger("t").exception("step failed")
    (record,) = captured.records()
    assert "ValueError: invalid literal" in str(record["exception"])


def test_a_line_never_carries_a_password(captured: Captured) -> None:
    logging.getLogger("t").error(
        "cannot connect",
        extra={"url": "postgresql://engine:hunter2@db:5432/oe", "password": "hunter2"},
    )
    text = captured.getvalue()
    assert "hunter2" not in text
    (record,) = captured.records()
    assert record["url"] == "postgresql://engine:***@db:5432/oe"


def test_a_line_never_carries_an_api_key(captured: Captured) -> None:
    key, key_id = new_key()
    # As uvicorn logs a WebSocket: the path with its query, as a positional argument.
    logging.getLogger("uvicorn.error").info(
        '%s - "WebSocket %s" [accepted]', "127.0.0.1:5", f"/api/x/stream?access_token={key}"
    )
    logging.getLogger("t").warning("refused", extra={"presented": key})
    text = captured.getvalue()
    assert key.rsplit("_", 1)[1] not in text
    assert f"oe_{key_id}_[redacted]" in text


def test_on_a_terminal_lines_are_text(restore_logging: None) -> None:
    stream = Captured(tty=True)
    configure_logging("INFO", "auto", stream)
    logging.getLogger("t").info("engine up", extra={"api": "http://127.0.0.1:8000"})
    line = stream.getvalue()
    assert "engine up" in line
    assert not line.startswith("{")


async def test_every_line_of_a_route_step_carries_its_order_attempt_and_step(
    captured: Captured,
) -> None:
    ctx = fake_context(FakeVenue())
    order_id = await new_order(ctx)
    await route_orders(ctx, [(order_id, 1)])
    lines = [r for r in captured.records() if str(r["logger"]).startswith("commands")]
    assert lines, "the step logged nothing"
    assert {(r["order_id"], r["attempt"], r["step"]) for r in lines} == {
        (order_id, 1, "route_and_send")
    }


async def test_orders_settled_at_once_each_log_their_own_order(captured: Captured) -> None:
    venue = FakeVenue()
    ctx = fake_context(venue)
    source = SentOrders(ctx)
    orders = [await sent_order(ctx, source) for _ in range(3)]
    before = len(captured.records())
    venue.script.extend(["confirmed"] * 3)
    assert await ConfirmationWatcher(ctx, source, interval_s=0).watch_once() == 3
    recorded = [r for r in captured.records()[before:] if r["event"] == "recorded"]
    assert sorted((r["order_id"], r["attempt"], r["step"]) for r in recorded) == sorted(
        (order_id, 1, "settle_attempt") for order_id in orders
    )

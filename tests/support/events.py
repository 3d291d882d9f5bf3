"""Small builders for events in tests."""

from __future__ import annotations

import uuid

import msgspec

from domain.records import EventMetadata, NewEvent


def new_event(kind: str = "Noted", **data: object) -> NewEvent:
    return NewEvent(
        event_id=str(uuid.uuid4()),
        event_type=kind,
        data=msgspec.json.encode(data or {"n": 1}),
        metadata=EventMetadata(actor="test"),
    )


def stream() -> str:
    return f"order-{uuid.uuid4()}"

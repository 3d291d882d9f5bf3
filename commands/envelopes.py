"""Wrapping domain events for the store: ids, type names, data, metadata."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from domain.events import OrderEvent, encode_event_data, event_type
from domain.records import EventMetadata, NewEvent

# Event ids of engine commands derive from the command id, so a redelivered command
# produces byte-identical events (and the store refuses a second copy).
_EVENT_ID_NAMESPACE = uuid.UUID("6f0d7a3e-2b9c-4c1e-9a57-0f3a1e5c8d21")


def wrap_events(
    events: Sequence[OrderEvent],
    metadata: EventMetadata,
    *,
    deterministic_ids: bool = False,
) -> list[NewEvent]:
    """`NewEvent`s for `events`; ids are random unless derived from the command id."""
    wrapped = []
    for index, event in enumerate(events):
        if deterministic_ids and metadata.command_id is not None:
            event_id = uuid.uuid5(_EVENT_ID_NAMESPACE, f"{metadata.command_id}#{index}")
        else:
            event_id = uuid.uuid4()
        wrapped.append(
            NewEvent(str(event_id), event_type(event), encode_event_data(event), metadata)
        )
    return wrapped

"""Recording pool creations in the log: once per pool, whatever crashes.

Each creation is appended to its pool's own stream at expected version 0 under the
command id `launch:<pool>`, with event ids derived from it: a watcher that appends a
creation again (after a crash between its appends and its next look, a restart, a
second watcher before the lock settled) finds the stream taken and writes nothing.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from commands.chain_types import PoolCreation
from commands.ports import EventStore
from domain.launches import PoolLaunched, encode_launch, launch_command_id, pool_stream
from domain.records import ConcurrencyConflict, EventMetadata, NewEvent

_EVENT_ID_NAMESPACE = uuid.UUID("0b7c1f52-8f0e-4d3a-9a61-53d0c2a4e7b9")


def launched(creation: PoolCreation, seen_slot: int) -> PoolLaunched:
    fields = {name: getattr(creation, name) for name in creation.__struct_fields__}
    return PoolLaunched(**fields, seen_slot=seen_slot)


async def record_launches(
    store: EventStore, creations: Sequence[PoolCreation], seen_slot: int
) -> int:
    """Append each creation not recorded yet; how many were new."""
    new = 0
    for creation in creations:
        command_id = launch_command_id(creation.pool)
        event = NewEvent(
            str(uuid.uuid5(_EVENT_ID_NAMESPACE, command_id)),
            "PoolLaunched",
            encode_launch(launched(creation, seen_slot)),
            EventMetadata(command_id=command_id, actor="pool-watcher"),
        )
        try:
            result = await store.append(
                pool_stream(creation.pool), 0, [event], command_id=command_id
            )
        except ConcurrencyConflict:
            continue  # recorded before, under another command id's view: the same pool
        new += 0 if result.duplicate else 1
    return new

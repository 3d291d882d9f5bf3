"""Many orders folded from one query: the confirmation watcher reloads every order
whose signature settled in a round at once, not with one round trip per order.

The states are only where deciding starts: each outcome is still appended at the
version read here, so an order that moved on meanwhile is a conflict, not a double.
"""

from __future__ import annotations

from collections.abc import Sequence

from psycopg import AsyncConnection

from domain.events import decode_event
from domain.order_state import OrderState, fold
from domain.streams import order_id_of, order_stream

_READ = (
    "SELECT stream_id, event_type, data::text FROM events WHERE stream_id = ANY(%s)"
    " ORDER BY stream_id, stream_version"
)


async def load_orders(conn: AsyncConnection, order_ids: Sequence[str]) -> dict[str, OrderState]:
    """Each existing order's state, by order id."""
    if not order_ids:
        return {}
    cursor = await conn.execute(_READ, ([order_stream(order_id) for order_id in order_ids],))
    histories: dict[str, list[tuple[str, str]]] = {}
    for stream_id, event_type, data in await cursor.fetchall():
        histories.setdefault(stream_id, []).append((event_type, data))
    states = {
        order_id_of(stream_id): fold(decode_event(kind, data) for kind, data in history)
        for stream_id, history in histories.items()
    }
    return {order_id: state for order_id, state in states.items() if state is not None}

"""An order belongs to the key that submitted it (API.md, "Keys and ownership").

To any other non-admin key the order does not exist: the same 404, with the same words,
as an unknown id, so a caller cannot even learn that an id is taken.
"""

from __future__ import annotations

from api.keys import Caller
from api.problems import ApiError
from api.services import EventLog
from domain.records import RecordedEvent, actor_of
from domain.streams import order_stream

# Owners never change: a bounded cache spares cancels a read per request.
_owners: dict[str, str] = {}
_OWNER_CACHE_SIZE = 100_000


def no_order(order_id: str) -> ApiError:
    return ApiError(404, f"orderId: no order {order_id}", "orderId")


def require_owner(caller: Caller, order_id: str, first: RecordedEvent | None) -> None:
    """Raise the unknown-order 404 unless `caller` may see the order whose first event
    is `first` (None: no such order)."""
    if first is None or not caller.owns(actor_of(first)):
        raise no_order(order_id)


async def check_owner(caller: Caller, store: EventLog, order_id: str) -> None:
    """As `require_owner`, reading the order's first event (once per order)."""
    if caller.admin:
        return
    owner = _owners.get(order_id)
    if owner is None:
        stream_id = order_stream(order_id)
        first = (await store.first_events([stream_id])).get(stream_id)
        if first is None:
            raise no_order(order_id)
        owner = actor_of(first)
        if len(_owners) >= _OWNER_CACHE_SIZE:
            _owners.clear()
        _owners[order_id] = owner
    if not caller.owns(owner):
        raise no_order(order_id)

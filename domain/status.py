"""Order statuses, as API.md names them."""

from __future__ import annotations

from enum import StrEnum


class OrderStatus(StrEnum):
    PENDING = "pending"
    ROUTING = "routing"
    BUILDING = "building"
    SUBMITTED = "submitted"
    RETRYING = "retrying"
    CONFIRMED = "confirmed"
    FAILED = "failed"
    # Limit and sniper orders wait in these.
    ARMED = "armed"
    TRIGGERED = "triggered"
    EXPIRED = "expired"
    CANCELLED = "cancelled"
    # A sniper with exit terms, after its buy: it holds the position, then sells it
    # through its exit's child order.
    HOLDING = "holding"
    EXITING = "exiting"


FINAL_STATUSES = frozenset(
    {OrderStatus.CONFIRMED, OrderStatus.FAILED, OrderStatus.EXPIRED, OrderStatus.CANCELLED}
)

ORDER_TYPES = ("market", "limit", "sniper")
ACCEPTED_ORDER_TYPES = ("market", "limit", "sniper")

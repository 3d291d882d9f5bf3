"""Everything that can happen to an order, as immutable facts.

This is the one list of events: each is a frozen, tagged msgspec Struct, joined in
`OrderEvent`. Adding an event means adding its class here, to the union, and a case in
`order.evolve`. Amounts are integers of atomic units; field names are stored in
camelCase, which is also how the API shows them.
"""

from __future__ import annotations

from datetime import datetime

import msgspec

from domain.sniper_terms import FilterVerdict, SniperTerms


class Fact(msgspec.Struct, frozen=True, kw_only=True, rename="camel"):
    """Shared options of every value stored inside an event."""


class Event(Fact, frozen=True, tag=True):
    """Base of every order event; the tag (class name) is its `event_type`."""


class Quote(Fact, frozen=True):
    """What one pool offered for the whole amount, as the router saw it."""

    pool: str
    venue: str
    label: str
    amount_out: int
    fee_amount: int
    price_impact: str


class RouteLeg(Fact, frozen=True):
    """One pool's share of a route; `amount_out` is expected, or actual once executed."""

    pool: str
    venue: str
    label: str
    amount_in: int
    amount_out: int


class OrderSubmitted(Event, frozen=True, omit_defaults=True):  # market orders: no limit
    order_id: str
    order_type: str
    token_in: str
    token_out: str
    amount_in: int
    slippage_bps: int
    # Limit orders: the least output accepted (after fees), the price it came from (as
    # the client wrote it, or None when given as minAmountOut) and when the order lapses.
    limit_amount_out: int | None = None
    limit_price: str | None = None
    expires_at: datetime | None = None
    # Sniper orders: what they wait for (`token_out` is "" until a pool matches).
    sniper: SniperTerms | None = None
    # An exit's child order: the sniper it sells for, and the decimals of its
    # `token_in` (the launched mint, which is in no token list).
    parent_order_id: str | None = None
    token_in_decimals: int | None = None


class OrderArmed(Event, frozen=True):
    """The order waits for its trigger; `generation` counts the arms, so a trigger
    decided for an older arm (a redelivery, a second evaluator) is recognised."""

    generation: int


class TriggerQuote(Fact, frozen=True):
    """The quote that fired a trigger: the best route for the whole amount at `slot`."""

    expected_amount_out: int
    price_impact: str
    legs: tuple[RouteLeg, ...]


class TriggerFired(Event, frozen=True):
    generation: int
    slot: int
    quote: TriggerQuote
    fired_at: datetime


class PoolSkipped(Event, frozen=True):
    """A sniper's target pool failed a filter: recorded, and the order stays armed."""

    pool: str
    slot: int
    filter: str  # the first filter that refused it
    verdicts: tuple[FilterVerdict, ...]


class PoolMatched(Event, frozen=True):
    """A sniper's first pool that passed every filter: the order buys its token from
    the first slot at or after the pool's open plus `delaySlots` (the evaluator fires
    it there, `TriggerFired`)."""

    generation: int
    pool: str
    venue: str
    slot: int  # the creation's slot
    token_out: str  # the launched mint
    token_out_decimals: int
    open_time: int  # the chain's unix time from which the pool trades
    verdicts: tuple[FilterVerdict, ...]


class OrderRearmed(Event, frozen=True):
    """An attempt failed; the order waits for its trigger again (the reason is kept)."""

    generation: int
    reason: str
    code: str


class OrderExpired(Event, frozen=True):
    reason: str


class CancelRequested(Event, frozen=True):
    """A cancel arrived while a sent transaction could still land; the order ends
    cancelled once that transaction provably cannot land, or confirmed if it lands."""


class OrderCancelled(Event, frozen=True):
    reason: str


class RoutingStarted(Event, frozen=True):
    attempt: int


class RouteSelected(Event, frozen=True):
    attempt: int
    quotes: tuple[Quote, ...]
    legs: tuple[RouteLeg, ...]
    expected_amount_out: int
    min_amount_out: int
    price_impact: str
    context_slot: int


class TransactionSigned(Event, frozen=True):
    """Recorded before anything is sent, so a crash can never lose a live signature."""

    attempt: int
    signature: str
    blockhash: str
    last_valid_block_height: int
    compute_unit_price: int = 0  # priority fee, micro-lamports per compute unit
    # The signed transaction, base64: every send sends these bytes (older events: "").
    transaction: str = ""


class TransactionSent(Event, frozen=True):
    attempt: int
    signature: str


class OrderConfirmed(Event, frozen=True, omit_defaults=True):
    attempt: int
    signature: str
    slot: int
    amount_out: int
    legs: tuple[RouteLeg, ...]
    network_fee_lamports: int
    filled_after_expiry: bool = False  # a limit order's send landed after expiresAt


class AttemptFailed(Event, frozen=True):
    attempt: int
    signature: str | None
    reason: str
    code: str
    will_retry: bool
    retry_after_ms: int


class OrderFailed(Event, frozen=True):
    reason: str
    code: str


class PositionOpened(Event, frozen=True):
    """A sniper with exit terms bought: it holds `tokens` of the launched token, which
    cost `cost` of `tokenIn` (atomic), from `slot` on; exit arm 1 watches it."""

    tokens: int
    cost: int
    entry_price: str  # tokenIn paid per launched token, in token units
    slot: int


class ExitTriggered(Event, frozen=True):
    """A rule fired on a held position (or the client cancelled it): child order
    `exit_order_id` sells the whole position. `value` is the sale quote that fired it
    (atomic tokenIn; None for a cancel) at `slot`."""

    generation: int
    exit_order_id: str
    reason: str  # takeProfit | stopLoss | maxHold | cancel
    slot: int | None
    value: int | None


class PositionClosed(Event, frozen=True):
    """The exit's child order confirmed: the position is sold for `proceeds` of
    `tokenIn` (atomic) in `slot`. The order is final (`confirmed`)."""

    exit_order_id: str
    proceeds: int
    slot: int


class ExitRearmed(Event, frozen=True):
    """The exit's child order ended without selling (failed, cancelled): the position
    is still held and exit arm `generation` watches it again."""

    generation: int
    exit_order_id: str  # the child that failed
    reason: str
    code: str


OrderEvent = (
    OrderSubmitted
    | OrderArmed
    | TriggerFired
    | PoolSkipped
    | PoolMatched
    | OrderRearmed
    | OrderExpired
    | CancelRequested
    | OrderCancelled
    | RoutingStarted
    | RouteSelected
    | TransactionSigned
    | TransactionSent
    | OrderConfirmed
    | AttemptFailed
    | OrderFailed
    | PositionOpened
    | ExitTriggered
    | PositionClosed
    | ExitRearmed
)

EVENT_TYPES: dict[str, type[OrderEvent]] = {
    cls.__name__: cls
    for cls in (
        OrderSubmitted,
        OrderArmed,
        TriggerFired,
        PoolSkipped,
        PoolMatched,
        OrderRearmed,
        OrderExpired,
        CancelRequested,
        OrderCancelled,
        RoutingStarted,
        RouteSelected,
        TransactionSigned,
        TransactionSent,
        OrderConfirmed,
        AttemptFailed,
        OrderFailed,
        PositionOpened,
        ExitTriggered,
        PositionClosed,
        ExitRearmed,
    )
}

_encoder = msgspec.json.Encoder()


def event_type(event: OrderEvent) -> str:
    return type(event).__name__


def encode_event_data(event: OrderEvent) -> bytes:
    """The event's fields as JSON, without the tag (the store keeps it in its own column)."""
    fields = msgspec.to_builtins(event)
    del fields["type"]
    return _encoder.encode(fields)


def decode_event(kind: str, data: bytes | str) -> OrderEvent:
    """Rebuild an event from its stored type name and data (the tag may be absent)."""
    return msgspec.json.decode(data, type=EVENT_TYPES[kind])

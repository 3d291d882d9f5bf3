"""How a snapshot is stored in `order_snapshots`, and read back.

Amounts stay atomic integers (numeric columns); quotes and route legs are JSON in
the events' own camelCase shape. `chosen_venue` is the venue with the largest share.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

import msgspec

from domain.events import Quote, RouteLeg, TriggerQuote
from domain.order_state import OrderState
from domain.records import GlobalPosition
from domain.sniper_terms import FilterVerdict, SniperTerms
from domain.status import OrderStatus
from projections.snapshot import OrderSnapshot

COLUMNS = (
    "order_id",
    "order_type",
    "status",
    "token_in",
    "token_out",
    "amount_in",
    "slippage_bps",
    "attempts",
    "quotes",
    "route",
    "chosen_venue",
    "expected_amount_out",
    "min_amount_out",
    "price_impact",
    "amount_out",
    "tx_hash",
    "blockhash",
    "last_valid_block_height",
    "slot",
    "failure_reason",
    "failure_code",
    "details",
    "version",
    "submitted_tx",
    "submitted_position",
    "status_since",
    "created_at",
    "updated_at",
    "owner",
)
# Read back with the uuid and JSON as text; numeric arrives as an exact Decimal.
SELECT_LIST = ", ".join(
    f"{name}::text" if name in ("order_id", "quotes", "route", "details") else name
    for name in COLUMNS
)


class Details(msgspec.Struct, kw_only=True, omit_defaults=True, rename="camel"):
    """The state's fields that have no column: every `OrderState` field is either a
    column or here (`tests/unit/test_snapshot_rows.py` checks it)."""

    compute_unit_price: int = 0
    limit_amount_out: int | None = None
    limit_price: str | None = None
    expires_at: datetime | None = None
    generation: int = 0
    trigger_slot: int | None = None
    triggered_at: datetime | None = None
    trigger_quote: TriggerQuote | None = None
    failed_executions: int = 0
    filled_after_expiry: bool = False
    cancel_requested: bool = False
    transaction: str | None = None  # the signed attempt's wire bytes, base64
    sniper: SniperTerms | None = None
    pools_skipped: int = 0
    last_skipped_pool: str | None = None
    last_skipped_filter: str | None = None
    matched_pool: str | None = None
    matched_venue: str | None = None
    match_slot: int | None = None
    match_verdicts: tuple[FilterVerdict, ...] = ()
    token_out_decimals: int = 0
    pool_open_time: int | None = None
    fired_generation: int = 0
    entry_cost: int | None = None
    entry_price: str | None = None
    entry_slot: int | None = None
    exit_generation: int = 0
    exit_order_id: str | None = None
    exit_reason: str | None = None
    exit_slot: int | None = None
    exit_value: int | None = None
    exit_proceeds: int | None = None
    closed_slot: int | None = None
    failed_exits: int = 0
    parent_order_id: str | None = None
    token_in_decimals: int | None = None


_DETAILS = Details.__struct_fields__
_details = msgspec.json.Decoder(Details)

_quotes = msgspec.json.Decoder(tuple[Quote, ...])
_legs = msgspec.json.Decoder(tuple[RouteLeg, ...])
_encoder = msgspec.json.Encoder()


def chosen_venue(legs: tuple[RouteLeg, ...]) -> str | None:
    """The venue carrying the largest share of the input (the first one on a tie)."""
    return max(legs, key=lambda leg: leg.amount_in).venue if legs else None


def snapshot_row(snapshot: OrderSnapshot) -> tuple[object, ...]:
    state = snapshot.state
    return (
        state.order_id,
        state.order_type,
        str(state.status),
        state.token_in,
        state.token_out,
        state.amount_in,
        state.slippage_bps,
        state.attempts,
        _encoder.encode(state.quotes).decode(),
        _encoder.encode(state.legs).decode(),
        chosen_venue(state.legs),
        state.expected_amount_out,
        state.min_amount_out,
        state.price_impact,
        state.amount_out,
        state.signature,
        state.blockhash,
        state.last_valid_block_height,
        state.slot,
        state.failure_reason,
        state.failure_code,
        _encoder.encode(Details(**{name: getattr(state, name) for name in _DETAILS})).decode(),
        state.version,
        snapshot.submitted.tx_id,
        snapshot.submitted.global_position,
        snapshot.status_since,
        snapshot.created_at,
        snapshot.updated_at,
        snapshot.owner,
    )


def snapshot_of_row(row: tuple[Any, ...]) -> OrderSnapshot:
    fields = dict(zip(COLUMNS, row, strict=True))
    details = _details.decode(fields["details"]) if fields["details"] else Details()
    state = OrderState(
        order_id=fields["order_id"],
        order_type=fields["order_type"],
        status=OrderStatus(fields["status"]),
        token_in=fields["token_in"],
        token_out=fields["token_out"],
        amount_in=_atomic(fields["amount_in"]),
        slippage_bps=fields["slippage_bps"],
        attempts=fields["attempts"],
        quotes=_quotes.decode(fields["quotes"]),
        legs=_legs.decode(fields["route"]),
        expected_amount_out=_atomic_or_none(fields["expected_amount_out"]),
        min_amount_out=_atomic_or_none(fields["min_amount_out"]),
        price_impact=fields["price_impact"],
        signature=fields["tx_hash"],
        blockhash=fields["blockhash"],
        last_valid_block_height=fields["last_valid_block_height"],
        amount_out=_atomic_or_none(fields["amount_out"]),
        slot=fields["slot"],
        failure_reason=fields["failure_reason"],
        failure_code=fields["failure_code"],
        version=fields["version"],
        **{name: getattr(details, name) for name in _DETAILS},
    )
    return OrderSnapshot(
        state=state,
        submitted=GlobalPosition(fields["submitted_tx"], fields["submitted_position"]),
        status_since=fields["status_since"],
        created_at=fields["created_at"],
        updated_at=fields["updated_at"],
        owner=fields["owner"],
    )


def _atomic(value: Decimal | int) -> int:
    return int(value)


def _atomic_or_none(value: Decimal | int | None) -> int | None:
    return None if value is None else int(value)

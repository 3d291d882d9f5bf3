"""Every field of an order's state is stored in the read model, and read back equal."""

from __future__ import annotations

from datetime import UTC, datetime

import msgspec

from domain.events import RouteLeg, TriggerQuote
from domain.order_state import OrderState
from domain.records import GlobalPosition
from domain.status import OrderStatus
from projections.rows import COLUMNS, Details, snapshot_of_row, snapshot_row
from projections.snapshot import OrderSnapshot

# State fields whose column has another name.
_RENAMED = {"signature": "tx_hash", "legs": "route"}


def test_every_state_field_has_a_column_or_a_details_key() -> None:
    stored = {_RENAMED.get(name, name) for name in OrderState.__struct_fields__}
    missing = {
        name for name in stored if name not in COLUMNS and name not in Details.__struct_fields__
    }
    assert missing == set(), f"add these to projections.rows: {missing}"


def test_a_limit_order_snapshot_survives_a_round_trip() -> None:
    when = datetime(2026, 12, 1, 12, tzinfo=UTC)
    leg = RouteLeg(pool="p", venue="raydium", label="CPMM", amount_in=10**9, amount_out=10**8)
    state = OrderState(
        order_id="0f9c5c1e-6a1e-4a38-9d4e-3c2f1b0a9e8d",
        order_type="limit",
        status=OrderStatus.TRIGGERED,
        token_in="SOL",
        token_out="USDC",
        amount_in=10**9,
        slippage_bps=0,
        compute_unit_price=10_000,
        limit_amount_out=10**8,
        limit_price="100",
        expires_at=when,
        generation=2,
        trigger_slot=7,
        triggered_at=when,
        trigger_quote=TriggerQuote(expected_amount_out=10**8, price_impact="0", legs=(leg,)),
        failed_executions=1,
        cancel_requested=True,
        version=5,
    )
    snapshot = OrderSnapshot(
        state=state,
        submitted=GlobalPosition(1, 1),
        status_since=when,
        created_at=when,
        updated_at=when,
    )
    row = snapshot_row(snapshot)
    assert snapshot_of_row(row) == snapshot
    details = msgspec.json.decode(str(row[COLUMNS.index("details")]))
    assert details["limitAmountOut"] == 10**8

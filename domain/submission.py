"""Turning a client's order request into a valid `SubmitOrder`, or naming what is wrong."""

from __future__ import annotations

from decimal import Decimal

from domain.amounts import parse_amount
from domain.commands import SubmitOrder
from domain.errors import InvalidField, UnsupportedOrderType
from domain.status import ACCEPTED_ORDER_TYPES, ORDER_TYPES
from domain.tokens import require_pair, resolve_token

MAX_SLIPPAGE_BPS = 5_000
DEFAULT_SLIPPAGE_BPS = 50


def parse_submission(
    *,
    order_id: str,
    order_type: str,
    token_in: str,
    token_out: str,
    amount_in: str | int | Decimal,
    slippage_bps: int,
) -> SubmitOrder:
    """Validate every field (in the order a client reads them) and build the command."""
    kind = order_type.lower()
    if kind not in ORDER_TYPES:
        raise InvalidField("type", f"must be one of {', '.join(ORDER_TYPES)}; got {order_type!r}")
    if kind not in ACCEPTED_ORDER_TYPES:
        raise UnsupportedOrderType("type", f"{kind} orders are not supported yet; use market")
    source = resolve_token(token_in, "tokenIn")
    target = resolve_token(token_out, "tokenOut")
    require_pair(source, target)
    atomic_in = parse_amount(amount_in, source, "amountIn")
    if not 0 <= slippage_bps <= MAX_SLIPPAGE_BPS:
        raise InvalidField("slippageBps", f"must be between 0 and {MAX_SLIPPAGE_BPS}")
    return SubmitOrder(
        order_id=order_id,
        order_type=kind,
        token_in=source.symbol,
        token_out=target.symbol,
        amount_in=atomic_in,
        slippage_bps=slippage_bps,
    )

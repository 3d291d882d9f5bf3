"""Turning a client's order request into a valid `SubmitOrder`, or naming what is wrong."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

import msgspec

from domain.amounts import parse_amount
from domain.commands import SubmitOrder
from domain.errors import InvalidField, UnsupportedOrderType
from domain.limit_terms import check_expiry, parse_limit_terms
from domain.sniper_terms import SniperFields, parse_sniper_terms
from domain.status import ACCEPTED_ORDER_TYPES, ORDER_TYPES
from domain.tokens import Token, require_pair, resolve_token

MAX_SLIPPAGE_BPS = 5_000
DEFAULT_SLIPPAGE_BPS = 50
# A limit order never fills below its limit unless the client allows it (API.md).
DEFAULT_LIMIT_SLIPPAGE_BPS = 0

Decimalish = str | int | Decimal


class LimitFields(msgspec.Struct, frozen=True, kw_only=True):
    """The fields only a limit order may carry, as the client sent them."""

    limit_price: Decimalish | None = None
    min_amount_out: Decimalish | None = None
    expires_at: datetime | None = None

    def given(self) -> list[str]:
        """The client's names of the fields that were sent."""
        names = (("limitPrice", self.limit_price), ("minAmountOut", self.min_amount_out))
        sent = [name for name, value in names if value is not None]
        return [*sent, "expiresAt"] if self.expires_at is not None else sent


NO_LIMIT = LimitFields()
NO_SNIPER = SniperFields()
# A sniper buys through wide slippage, as the bots do (API.md).
DEFAULT_SNIPER_SLIPPAGE_BPS = 1_500
SNIPER_TOKENS_IN = ("SOL", "USDC")


def parse_submission(
    *,
    order_id: str,
    order_type: str,
    token_in: str,
    token_out: str,
    amount_in: Decimalish,
    slippage_bps: int | None,
    limit: LimitFields = NO_LIMIT,
    sniper: SniperFields = NO_SNIPER,
    now: datetime | None = None,
) -> SubmitOrder:
    """Validate every field (in the order a client reads them) and build the command;
    `now` (UTC) is needed for a limit order's expiry."""
    # Only ASCII is case-folded: "mar\u212aet" (a Kelvin sign) lower-cases to "market".
    kind = order_type.lower() if order_type.isascii() else order_type
    if kind not in ORDER_TYPES:
        raise InvalidField("type", f"must be one of {', '.join(ORDER_TYPES)}; got {order_type!r}")
    if kind not in ACCEPTED_ORDER_TYPES:
        accepted = " or ".join(ACCEPTED_ORDER_TYPES)
        raise UnsupportedOrderType("type", f"{kind} orders are not supported yet; use {accepted}")
    source = resolve_token(token_in, "tokenIn")
    if kind == "sniper":
        return _sniper(order_id, source, token_out, amount_in, slippage_bps, limit, sniper, now)
    if sniper.given():
        raise InvalidField(sniper.given()[0], f"only sniper orders take it, not {kind} orders")
    target = resolve_token(token_out, "tokenOut")
    require_pair(source, target)
    atomic_in = parse_amount(amount_in, source, "amountIn")
    default = DEFAULT_LIMIT_SLIPPAGE_BPS if kind == "limit" else DEFAULT_SLIPPAGE_BPS
    slippage = _slippage(default, slippage_bps)
    command = SubmitOrder(
        order_id=order_id,
        order_type=kind,
        token_in=source.symbol,
        token_out=target.symbol,
        amount_in=atomic_in,
        slippage_bps=slippage,
    )
    if kind != "limit":
        if limit.given():
            raise InvalidField(limit.given()[0], f"only limit orders take it, not {kind} orders")
        return command
    assert now is not None, "a limit order's expiry needs the time"
    terms = parse_limit_terms(
        amount_in=atomic_in,
        token_in=source,
        token_out=target,
        limit_price=limit.limit_price,
        min_amount_out=limit.min_amount_out,
        expires_at=limit.expires_at,
        now=now,
    )
    return msgspec.structs.replace(
        command,
        limit_amount_out=terms.limit_amount_out,
        limit_price=terms.limit_price,
        expires_at=terms.expires_at,
    )


def _slippage(default: int, slippage_bps: int | None) -> int:
    slippage = default if slippage_bps is None else slippage_bps
    if not 0 <= slippage <= MAX_SLIPPAGE_BPS:
        raise InvalidField("slippageBps", f"must be between 0 and {MAX_SLIPPAGE_BPS}")
    return slippage


def _sniper(
    order_id: str,
    source: Token,
    token_out: str,
    amount_in: Decimalish,
    slippage_bps: int | None,
    limit: LimitFields,
    sniper: SniperFields,
    now: datetime | None,
) -> SubmitOrder:
    """A sniper order: it buys whatever token its matched pool launches (no tokenOut)."""
    if token_out:
        raise InvalidField("tokenOut", "a sniper order buys the launched token: leave it out")
    if source.symbol not in SNIPER_TOKENS_IN:
        raise InvalidField("tokenIn", f"must be one of {', '.join(SNIPER_TOKENS_IN)}")
    atomic_in = parse_amount(amount_in, source, "amountIn")
    slippage = _slippage(DEFAULT_SNIPER_SLIPPAGE_BPS, slippage_bps)
    if limit.limit_price is not None or limit.min_amount_out is not None:
        raise InvalidField(limit.given()[0], "only limit orders take it, not sniper orders")
    if limit.expires_at is None:
        raise InvalidField("expiresAt", "is required for sniper orders")
    assert now is not None, "a sniper order's expiry needs the time"
    terms = parse_sniper_terms(sniper, source)
    return SubmitOrder(
        order_id=order_id,
        order_type="sniper",
        token_in=source.symbol,
        token_out="",
        amount_in=atomic_in,
        slippage_bps=slippage,
        expires_at=check_expiry(limit.expires_at, now),
        sniper=terms,
    )

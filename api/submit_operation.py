"""The OpenAPI description of the submit body.

The handler reads the raw body itself (so `amountIn` is parsed exactly and every
error names its field), which hides the body from Litestar's generator; this
operation class puts it back.
"""

from __future__ import annotations

from dataclasses import dataclass

from litestar.openapi.spec import (
    OpenAPIFormat,
    OpenAPIMediaType,
    OpenAPIType,
    Operation,
    RequestBody,
    Schema,
)

from domain.status import ORDER_TYPES
from domain.submission import (
    DEFAULT_LIMIT_SLIPPAGE_BPS,
    DEFAULT_SLIPPAGE_BPS,
    MAX_SLIPPAGE_BPS,
)
from domain.tokens import TOKENS

_TOKEN = Schema(
    type=OpenAPIType.STRING,
    description="symbol or mint address",
    examples=[token.symbol for token in TOKENS],
)


def _decimal(description: str, maximum: int | None = None) -> Schema:
    return Schema(
        one_of=[
            Schema(type=OpenAPIType.STRING, pattern=r"^[0-9]{1,30}(\.[0-9]{1,30})?$"),
            Schema(type=OpenAPIType.NUMBER, exclusive_minimum=0, maximum=maximum),
        ],
        description=description,
    )


SUBMIT_ORDER_SCHEMA = Schema(
    type=OpenAPIType.OBJECT,
    required=["type", "tokenIn", "tokenOut", "amountIn"],
    additional_properties=False,
    properties={
        "type": Schema(
            type=OpenAPIType.STRING,
            description="market or limit; sniper is refused until supported",
            examples=list(ORDER_TYPES),
        ),
        "tokenIn": _TOKEN,
        "tokenOut": _TOKEN,
        "amountIn": _decimal(
            "amount of tokenIn in token units, > 0, at most its decimals, <= 10^12", 10**12
        ),
        "slippageBps": Schema(
            type=OpenAPIType.INTEGER,
            minimum=0,
            maximum=MAX_SLIPPAGE_BPS,
            description=f"default {DEFAULT_SLIPPAGE_BPS} for market orders,"
            f" {DEFAULT_LIMIT_SLIPPAGE_BPS} for limit orders (never below the limit)",
        ),
        "limitPrice": _decimal(
            "limit orders: the least tokenOut per tokenIn accepted, after fees;"
            " exactly one of limitPrice or minAmountOut"
        ),
        "minAmountOut": _decimal(
            "limit orders: the least tokenOut accepted for the whole amountIn, after fees"
        ),
        "expiresAt": Schema(
            type=OpenAPIType.STRING,
            format=OpenAPIFormat.DATE_TIME,
            description="limit orders: RFC 3339 UTC, in the future, at most 30 days ahead;"
            " default now + 7 days",
        ),
    },
)


@dataclass
class SubmitOrderOperation(Operation):
    def __post_init__(self) -> None:
        self.request_body = RequestBody(
            content={"application/json": OpenAPIMediaType(schema=SUBMIT_ORDER_SCHEMA)},
            required=True,
        )

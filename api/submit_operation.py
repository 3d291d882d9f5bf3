"""The OpenAPI description of the submit body.

The handler reads the raw body itself (so `amountIn` is parsed exactly and every
error names its field), which hides the body from Litestar's generator; this
operation class puts it back.
"""

from __future__ import annotations

from dataclasses import dataclass

from litestar.openapi.spec import OpenAPIMediaType, OpenAPIType, Operation, RequestBody, Schema

from domain.status import ORDER_TYPES
from domain.submission import DEFAULT_SLIPPAGE_BPS, MAX_SLIPPAGE_BPS
from domain.tokens import TOKENS

_TOKEN = Schema(
    type=OpenAPIType.STRING,
    description="symbol or mint address",
    examples=[token.symbol for token in TOKENS],
)

SUBMIT_ORDER_SCHEMA = Schema(
    type=OpenAPIType.OBJECT,
    required=["type", "tokenIn", "tokenOut", "amountIn"],
    additional_properties=False,
    properties={
        "type": Schema(
            type=OpenAPIType.STRING,
            description="market; limit and sniper are refused until supported",
            examples=list(ORDER_TYPES),
        ),
        "tokenIn": _TOKEN,
        "tokenOut": _TOKEN,
        "amountIn": Schema(
            one_of=[
                Schema(type=OpenAPIType.STRING, pattern=r"^[0-9]{1,30}(\.[0-9]{1,30})?$"),
                Schema(type=OpenAPIType.NUMBER, exclusive_minimum=0, maximum=10**12),
            ],
            description="amount of tokenIn in token units, > 0, at most its decimals, <= 10^12",
        ),
        "slippageBps": Schema(
            type=OpenAPIType.INTEGER,
            minimum=0,
            maximum=MAX_SLIPPAGE_BPS,
            default=DEFAULT_SLIPPAGE_BPS,
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

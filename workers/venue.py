"""The venue over HTTP: the simulator's quote and RPC endpoints (see simulator/service.py)."""

from __future__ import annotations

from typing import TypeVar

import msgspec

from domain.routing import VenueUnavailable
from workers.http import JsonHttpClient
from workers.ports import VenueRejected
from workers.wire import (
    Blockhash,
    BlockHeight,
    Ladder,
    LegOrder,
    LegsQuote,
    SendResult,
    Statuses,
    SwapTransaction,
)

T = TypeVar("T")
_encoder = msgspec.json.Encoder()


class _Refusal(msgspec.Struct):
    message: str = ""
    field: str | None = None


class SimulatorVenue:
    """One keep-alive HTTP client per process; `close()` when done."""

    def __init__(self, base_url: str, timeout_s: float = 5.0, max_connections: int = 16) -> None:
        self._client = JsonHttpClient(base_url, timeout_s, max_connections)

    async def close(self) -> None:
        await self._client.close()

    async def ladder(self, input_mint: str, output_mint: str, amounts: list[int]) -> Ladder:
        body = {"inputMint": input_mint, "outputMint": output_mint, "amounts": amounts}
        return await self._call("POST", "/quote", Ladder, body)

    async def quote_legs(
        self, input_mint: str, output_mint: str, legs: list[LegOrder], slippage_bps: int
    ) -> LegsQuote:
        body = {
            "inputMint": input_mint,
            "outputMint": output_mint,
            "legs": legs,
            "slippageBps": slippage_bps,
        }
        return await self._call("POST", "/quote/legs", LegsQuote, body)

    async def latest_blockhash(self) -> Blockhash:
        return await self._call("GET", "/blockhash", Blockhash)

    async def block_height(self) -> BlockHeight:
        return await self._call("GET", "/block-height", BlockHeight)

    async def send_transaction(self, transaction: SwapTransaction) -> SendResult:
        return await self._call("POST", "/transactions", SendResult, transaction)

    async def signature_statuses(self, signatures: list[str]) -> Statuses:
        return await self._call("POST", "/signature-statuses", Statuses, {"signatures": signatures})

    async def _call(self, method: str, path: str, kind: type[T], body: object = None) -> T:
        content = b"" if body is None else _encoder.encode(body)
        status, data = await self._client.request(method, path, content)
        if status >= 500:
            raise VenueUnavailable(f"{method} {path}: HTTP {status}")
        if status >= 400:
            refusal = msgspec.json.decode(data, type=_Refusal)
            raise VenueRejected(status, refusal.field, refusal.message)
        return msgspec.json.decode(data, type=kind)

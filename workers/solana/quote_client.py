"""The quote service over HTTP (`commands.ports.QuoteService`): Jupiter-shaped quotes,
the ladder and legs extensions the router uses, and pool keys for the wallet."""

from __future__ import annotations

from typing import TypeVar

import msgspec

from commands.ports import VenueRejected
from commands.quote_types import Ladder, LegOrder, LegsQuote
from domain.routing import VenueUnavailable
from workers.solana.http import Transport
from workers.solana.programs import PoolKeys

T = TypeVar("T")
_encoder = msgspec.json.Encoder()


class _Refusal(msgspec.Struct):
    message: str = ""
    field: str | None = None


class QuoteClient:
    def __init__(self, http: Transport) -> None:
        self._http = http

    async def close(self) -> None:
        await self._http.close()

    async def ladder(self, input_mint: str, output_mint: str, amounts: list[int]) -> Ladder:
        body = {"inputMint": input_mint, "outputMint": output_mint, "amounts": amounts}
        return await self._call("POST", "/quote/ladder", Ladder, body)

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

    async def pool_keys(self, pools: list[str]) -> list[PoolKeys]:
        return await self._call("GET", f"/pools/keys?ids={','.join(pools)}", list[PoolKeys])

    async def _call(self, method: str, path: str, kind: type[T], body: object = None) -> T:
        content = None if body is None else _encoder.encode(body)
        status, data = await self._http.request(method, path, content)
        if status >= 500:
            raise VenueUnavailable(f"{method} {path}: HTTP {status}")
        if status >= 400:
            refusal = msgspec.json.decode(data, type=_Refusal)
            raise VenueRejected(status, refusal.field, refusal.message)
        return msgspec.json.decode(data, type=kind)

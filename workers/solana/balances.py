"""`GET /api/wallet`'s reader (`api.services.WalletReader`): what the engine's wallet
holds on chain, from `getBalance` and `getTokenAccountsByOwner` in one JSON-RPC batch."""

from __future__ import annotations

import base64
from typing import Any

import msgspec
from solders.pubkey import Pubkey

from commands.ports import VenueRejected
from domain.routing import VenueUnavailable
from workers.solana.http import HttpClient, Transport
from workers.solana.programs import TOKEN_PROGRAM

_encoder = msgspec.json.Encoder()


class WalletHoldings(msgspec.Struct, frozen=True):
    """Native lamports (fees) and each token account's amount, by mint, atomic units."""

    address: str
    lamports: int
    by_mint: dict[str, int]


class WalletBalances:
    """Reads `address`'s balances from the node at `rpc_url` (or over `transport`)."""

    def __init__(self, rpc_url: str, address: str, transport: Transport | None = None) -> None:
        self._url = rpc_url
        self._address = address
        self._http = transport

    async def holdings(self) -> WalletHoldings:
        if self._http is None:  # made in the serving loop, on first use
            self._http = HttpClient(self._url)
        calls = [
            {"jsonrpc": "2.0", "id": 0, "method": "getBalance", "params": [self._address]},
            {
                "jsonrpc": "2.0",
                "id": 1,
                "method": "getTokenAccountsByOwner",
                "params": [
                    self._address,
                    {"programId": str(TOKEN_PROGRAM)},
                    {"encoding": "base64"},
                ],
            },
        ]
        status, data = await self._http.request("POST", "/", _encoder.encode(calls))
        if status >= 500 or status == 429:
            raise VenueUnavailable(f"RPC node answered HTTP {status}")
        answers = sorted(msgspec.json.decode(data, type=list[dict[str, Any]]), key=_id)
        for answer in answers:
            if "error" in answer:
                error = answer["error"]
                raise VenueRejected(int(error.get("code", 0)), None, str(error.get("message")))
        lamports = int(answers[0]["result"]["value"])
        by_mint: dict[str, int] = {}
        for account in answers[1]["result"]["value"]:
            raw = base64.b64decode(account["account"]["data"][0])
            mint = str(Pubkey.from_bytes(raw[:32]))  # SPL Token account: mint, owner, amount
            by_mint[mint] = by_mint.get(mint, 0) + int.from_bytes(raw[64:72], "little")
        return WalletHoldings(address=self._address, lamports=lamports, by_mint=by_mint)

    async def close(self) -> None:
        if self._http is not None:
            await self._http.close()


def _id(answer: dict[str, Any]) -> int:
    return int(answer.get("id") or 0)

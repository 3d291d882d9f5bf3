"""The new-pool feed over Solana JSON-RPC (`commands.ports.LaunchFeed`).

As a sniper bot does on mainnet: a `logsSubscribe` on the fee receiver (when the node
has a WebSocket; `workers.solana.logs_subscription`) says when to look;
`getSignaturesForAddress` on Raydium CPMM's create-pool
fee receiver (only pool creations touch it) at `confirmed`, newest first, paged with
`before` down to the newest creation already known (`until`); then one JSON-RPC batch
of `getTransaction` for the new ones, each read from its logs: the program's
`Instruction: Initialize` and the creation line (`Program log: pool_created {...}`,
the simulator's: Raydium's own program logs no such line, and a bot on mainnet decodes
the instruction's accounts and reads the mint and LP accounts instead).
"""

from __future__ import annotations

from typing import Any

import msgspec

from commands.chain_types import Creations, PoolCreation
from commands.ports import VenueRejected
from domain.routing import VenueUnavailable
from workers.solana.http import Transport
from workers.solana.logs_subscription import LogsSubscription

CREATE_POOL_FEE = "DNXgeM9EiiaAbaWvwjHj9fQQLAX5ZsfHyvmYUNRAdNC8"  # Raydium CPMM, mainnet
CPMM_PROGRAM = "CPMMoo8L3F4NbTegBCKVNunggL7H1ZpdTHKxQB5qKP1C"
POOL_CREATED = "Program log: pool_created "
PAGE = 1_000
_TRANSACTION = {"encoding": "json", "commitment": "confirmed", "maxSupportedTransactionVersion": 0}


# Solana's answers for a slot without a block: skipped, or not available (yet).
BLOCK_NOT_AVAILABLE = (-32004, -32007, -32009)


class _Created(msgspec.Struct, frozen=True, kw_only=True, rename="camel"):
    pool: str
    base_mint: str
    quote_mint: str
    creator: str
    base_reserve: str
    quote_reserve: str
    base_decimals: int
    open_time: int
    mint_authority: str | None
    freeze_authority: str | None
    lp_burned_pct: int
    top_holder_pct: int


class _Error(msgspec.Struct):
    code: int
    message: str


class _Answer(msgspec.Struct):
    id: int | None = None
    result: Any = None
    error: _Error | None = None


_encoder = msgspec.json.Encoder()
_answer = msgspec.json.Decoder(_Answer)
_answers = msgspec.json.Decoder(list[_Answer])
_created = msgspec.json.Decoder(_Created)


class LaunchFeedClient:
    """Over one transport (the RPC node's); with `websocket_url`, a `logsSubscribe` on
    the fee receiver rings when a creation confirms."""

    def __init__(self, http: Transport, websocket_url: str | None = None) -> None:
        self._http = http
        self.announcements: LogsSubscription | None = (
            None if websocket_url is None else LogsSubscription(websocket_url, CREATE_POOL_FEE)
        )

    async def creations_after(self, newest: str | None) -> list[str]:
        found: list[str] = []
        before: str | None = None
        while True:
            config: dict[str, object] = {"commitment": "confirmed", "limit": PAGE}
            if newest is not None:
                config["until"] = newest
            if before is not None:
                config["before"] = before
            page = await self._call("getSignaturesForAddress", [CREATE_POOL_FEE, config])
            found += [entry["signature"] for entry in page if entry.get("err") is None]
            if len(page) < PAGE:
                return found[::-1]
            before = page[-1]["signature"]

    async def creations(self, signatures: list[str]) -> Creations:
        if not signatures:
            return Creations(found=[], unreadable=[])
        calls = [
            {"jsonrpc": "2.0", "id": i, "method": "getTransaction", "params": [s, _TRANSACTION]}
            for i, s in enumerate(signatures)
        ]
        status, data = await self._http.request("POST", "/", _encoder.encode(calls))
        _check_status(status, data)
        answers = sorted(_answers.decode(data), key=lambda answer: answer.id or 0)
        found: list[PoolCreation] = []
        unreadable: list[str] = []
        for signature, answer in zip(signatures, answers, strict=True):
            if answer.error is not None:
                raise VenueRejected(answer.error.code, None, answer.error.message)
            if answer.result is None:
                unreadable.append(signature)
                continue
            creation = _creation(signature, answer.result)
            if creation is not None:
                found.append(creation)
        return Creations(found=found, unreadable=unreadable)

    async def slot(self) -> int:
        return int(await self._call("getSlot", [{"commitment": "confirmed"}]))

    async def block_time(self, slot: int) -> int | None:
        try:
            answer = await self._call("getBlockTime", [slot])
        except VenueRejected as error:
            if error.status in BLOCK_NOT_AVAILABLE:
                return None
            raise
        return None if answer is None else int(answer)

    async def _call(self, method: str, params: list[object]) -> Any:
        body = _encoder.encode({"jsonrpc": "2.0", "id": 1, "method": method, "params": params})
        status, data = await self._http.request("POST", "/", body)
        _check_status(status, data)
        answer = _answer.decode(data)
        if answer.error is not None:
            raise VenueRejected(answer.error.code, None, answer.error.message)
        return answer.result


def _creation(signature: str, tx: dict[str, Any]) -> PoolCreation | None:
    """The creation a landed transaction's logs carry; None for any other transaction
    (one that failed, or that touched the fee receiver without creating a pool)."""
    meta = tx.get("meta") or {}
    if meta.get("err") is not None:
        return None
    logs: list[str] = meta.get("logMessages") or []
    if f"Program {CPMM_PROGRAM} invoke [1]" not in logs:
        return None
    line = next((text for text in logs if text.startswith(POOL_CREATED)), None)
    if line is None:
        return None
    created = _created.decode(line.removeprefix(POOL_CREATED))
    return PoolCreation(
        pool=created.pool,
        venue="raydium",
        kind="cpmm",
        base_mint=created.base_mint,
        quote_mint=created.quote_mint,
        creator=created.creator,
        base_reserve=int(created.base_reserve),
        quote_reserve=int(created.quote_reserve),
        base_decimals=created.base_decimals,
        open_time=created.open_time,
        slot=int(tx["slot"]),
        signature=signature,
        mint_authority=created.mint_authority,
        freeze_authority=created.freeze_authority,
        lp_burned_pct=created.lp_burned_pct,
        top_holder_pct=created.top_holder_pct,
    )


def _check_status(status: int, data: bytes) -> None:
    if status >= 500 or status == 429:
        raise VenueUnavailable(f"RPC node answered HTTP {status}")
    if status >= 400:
        raise VenueRejected(status, None, data.decode(errors="replace")[:200])

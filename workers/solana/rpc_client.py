"""The RPC node over Solana JSON-RPC 2.0 (`commands.ports.RpcNode`).

Requests are solders' own (`solders.rpc.requests`), so they are what any Solana client
sends, and statuses, blockhashes and heights are read with solders' response types;
where solders costs more than the request (a `getTransaction` batch: 30 µs a request
to build, measured) the body is msgspec's, and `getTransaction` is read with
`workers.solana.landed`. Sends skip preflight and go out in JSON-RPC batches
(`workers.solana.send_batch`).
"""

from __future__ import annotations

from typing import Any

import msgspec
from solders.pubkey import Pubkey
from solders.rpc.requests import GetBlockHeight, GetLatestBlockhash, GetSignatureStatuses
from solders.rpc.responses import (
    GetBlockHeightResp,
    GetLatestBlockhashResp,
    GetSignatureStatusesResp,
)
from solders.signature import Signature
from solders.transaction_status import TransactionConfirmationStatus

from commands.chain_types import Blockhash, LandedTransaction, SignatureStatus
from commands.ports import VenueRejected
from domain.routing import VenueUnavailable
from workers.solana.http import Transport
from workers.solana.landed import TransactionResult, landed
from workers.solana.send_batch import SendBatcher

_CONFIRMED = {"encoding": "json", "commitment": "confirmed", "maxSupportedTransactionVersion": 0}
_encoder = msgspec.json.Encoder()
_COMMITMENT = (
    (TransactionConfirmationStatus.Processed, "processed"),
    (TransactionConfirmationStatus.Confirmed, "confirmed"),
    (TransactionConfirmationStatus.Finalized, "finalized"),
)


def _commitment(level: TransactionConfirmationStatus | None) -> str | None:
    return next((name for known, name in _COMMITMENT if known == level), None)


class _Error(msgspec.Struct):
    code: int
    message: str


class _Answer(msgspec.Struct):
    id: int | None = None
    result: TransactionResult | None = None
    error: _Error | None = None


_answers = msgspec.json.Decoder(list[_Answer])


class RpcClient:
    """Over one transport (a kept `HttpClient`); `wallet` is whose output a landed swap
    reports."""

    def __init__(self, http: Transport, wallet: Pubkey) -> None:
        self._http = http
        self._wallet = wallet
        self._sends = SendBatcher(http)

    async def close(self) -> None:
        await self._http.close()

    async def latest_blockhash(self) -> Blockhash:
        answer = await self._call(GetLatestBlockhash().to_json(), GetLatestBlockhashResp)
        return Blockhash(
            blockhash=str(answer.value.blockhash),
            last_valid_block_height=answer.value.last_valid_block_height,
            slot=answer.context.slot,
        )

    async def block_height(self) -> int:
        return int((await self._call(GetBlockHeight().to_json(), GetBlockHeightResp)).value)

    async def send_transaction(self, transaction: str) -> str:
        return await self._sends.send(transaction)

    async def signature_statuses(self, signatures: list[str]) -> list[SignatureStatus | None]:
        request = GetSignatureStatuses([Signature.from_string(s) for s in signatures])
        answer = await self._call(request.to_json(), GetSignatureStatusesResp)
        return [
            None
            if status is None
            else SignatureStatus(
                slot=status.slot,
                confirmation_status=_commitment(status.confirmation_status),
                failed=status.err is not None,
            )
            for status in answer.value
        ]

    async def landed_transactions(self, signatures: list[str]) -> list[LandedTransaction | None]:
        """One JSON-RPC batch of `getTransaction`, at `confirmed`."""
        calls = [
            {"jsonrpc": "2.0", "id": index, "method": "getTransaction", "params": [s, _CONFIRMED]}
            for index, s in enumerate(signatures)
        ]
        status, data = await self._http.request("POST", "/", _encoder.encode(calls))
        _check_status(status, data)
        answers = sorted(_answers.decode(data), key=lambda answer: answer.id or 0)
        results: list[LandedTransaction | None] = []
        for answer in answers:
            if answer.error is not None:
                raise VenueRejected(answer.error.code, None, answer.error.message)
            results.append(
                None if answer.result is None else landed(answer.result, self._wallet, None)
            )
        return results

    async def _call(self, body: str, kind: Any) -> Any:
        status, data = await self._http.request("POST", "/", body.encode())
        _check_status(status, data)
        answer = kind.from_json(data.decode())
        if not hasattr(answer, "value"):
            error = msgspec.json.decode(data, type=dict[str, Any]).get("error") or {}
            raise VenueRejected(int(error.get("code", 0)), None, str(error.get("message", answer)))
        return answer


def _check_status(status: int, data: bytes) -> None:
    if status >= 500 or status == 429:
        raise VenueUnavailable(f"RPC node answered HTTP {status}")
    if status >= 400:
        raise VenueRejected(status, None, data.decode(errors="replace")[:200])

"""Any `RpcNode` behind the worst RPC node a real deployment meets (issue 9), seeded.

It accepts sends and loses the answer (the client times out), answers 429 or 503 to
sends (before or after passing them on) and to status reads, shows block heights a few
blocks behind, and shows a landed signature as `null` for the first few reads (a
lagging node), in `getTransaction` as in `getSignatureStatuses`.
"""

from __future__ import annotations

import random

from commands.chain_types import Blockhash, LandedTransaction, SignatureStatus
from commands.ports import RpcNode, VenueRejected
from domain.routing import VenueUnavailable


class HostileRpc:
    def __init__(
        self,
        inner: RpcNode,
        seed: int,
        *,
        lose_answers: float = 0.25,
        refuse_sends: float = 0.25,
        refuse_reads: float = 0.1,
        lag_reads: int = 3,
        behind_blocks: int = 3,
    ) -> None:
        self._inner = inner
        self._random = random.Random(seed)
        self._lose_answers = lose_answers
        self._refuse_sends = refuse_sends
        self._refuse_reads = refuse_reads
        self._lag_reads = lag_reads
        self._behind_blocks = behind_blocks
        self._hidden: dict[str, int] = {}  # landed signature -> reads it still shows null

    async def latest_blockhash(self) -> Blockhash:
        return await self._inner.latest_blockhash()

    async def block_height(self) -> int:
        self._maybe_refuse(self._refuse_reads)
        height = await self._inner.block_height()
        return height - self._random.randint(0, self._behind_blocks)

    async def send_transaction(self, transaction: str) -> str:
        self._maybe_refuse(self._refuse_sends / 2)
        signature = await self._inner.send_transaction(transaction)
        if self._random.random() < self._lose_answers:
            raise VenueUnavailable("sendTransaction: timed out")
        self._maybe_refuse(self._refuse_sends / 2)  # refused after passing it on
        return signature

    async def signature_statuses(self, signatures: list[str]) -> list[SignatureStatus | None]:
        self._maybe_refuse(self._refuse_reads)
        answer = await self._inner.signature_statuses(signatures)
        return [
            None if status is None or self._hides(signature) else status
            for signature, status in zip(signatures, answer, strict=True)
        ]

    async def landed_transactions(self, signatures: list[str]) -> list[LandedTransaction | None]:
        self._maybe_refuse(self._refuse_reads)
        return await self._inner.landed_transactions(signatures)

    def _hides(self, signature: str) -> bool:
        hidden = self._hidden.setdefault(signature, self._lag_reads)
        if hidden > 0:
            self._hidden[signature] = hidden - 1
            return True
        return False

    def _maybe_refuse(self, chance: float) -> None:
        if self._random.random() >= chance:
            return
        if self._random.random() < 0.5:
            raise VenueRejected(429, None, "too many requests")
        raise VenueUnavailable("HTTP 503")

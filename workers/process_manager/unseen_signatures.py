"""The watched signatures the chain does not show (their status is null): each is sent
again now and then, the same bytes, in case a send was lost, and is over only on proof
that it can never land.

Solana answers null both for "not in a block yet" and for "expired, never landed", and a
node behind the chain shows a landed signature as null for a while. The proof is the
one of `commands.settle_attempt`: a status read made *after* seeing a block height past
the signature's lastValidBlockHeight by the policy's margin still finds nothing. Most
signatures land within a look or two, so a signature is looked into (its order loaded,
the height read) only once it has been null for `resend_every_s`: the happy path costs
no read of the order and no height request.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time

from commands.chain_types import SignatureStatus
from commands.order_steps import load_orders
from commands.ports import RpcNode
from commands.settle_attempt import Expired, expired_after
from commands.step_context import StepContext
from commands.transactions import send_unacknowledged
from db.inflight import Watched
from domain.order_state import OrderState

log = logging.getLogger(__name__)

MAX_SIGNATURES = 256  # per status request, Solana's limit


async def statuses_of(rpc: RpcNode, signatures: list[str]) -> dict[str, SignatureStatus | None]:
    """`getSignatureStatuses` for any number of signatures, 256 a request: by signature,
    the answers of the requests that were answered. A request refused (a 429 from a
    rate limit) or unanswered leaves its signatures out, to be looked at next round and
    never taken for null; only when no request was answered is the first failure raised.
    With thousands in flight a round is many requests, and a rate limit refusing a few
    of them must not stop every other order from settling."""
    chunks = [
        signatures[start : start + MAX_SIGNATURES]
        for start in range(0, len(signatures), MAX_SIGNATURES)
    ]
    answers = await asyncio.gather(
        *(rpc.signature_statuses(chunk) for chunk in chunks), return_exceptions=True
    )
    found: dict[str, SignatureStatus | None] = {}
    failures: list[Exception] = []
    for chunk, answer in zip(chunks, answers, strict=True):
        if isinstance(answer, Exception):
            failures.append(answer)
        elif isinstance(answer, BaseException):
            raise answer  # cancelled: not the node's doing
        else:
            found.update(zip(chunk, answer, strict=True))
    if failures and not found:
        raise failures[0]
    if failures:
        log.warning(
            "status requests not answered; their signatures wait for the next round",
            extra={"requests": len(failures), "of": len(chunks), "error": str(failures[0])},
        )
    return found


class _Sent:
    """What is kept of a signature looked into: fixed facts of its TransactionSigned."""

    __slots__ = ("expired_after", "resent_at", "state")

    def __init__(self, ctx: StepContext, state: OrderState) -> None:
        self.expired_after = expired_after(ctx, state)
        self.state = state
        self.resent_at = -math.inf  # null for a while already: send it again at once


class UnseenSignatures:
    def __init__(self, ctx: StepContext, resend_every_s: float) -> None:
        self._ctx = ctx
        self._resend_every_s = resend_every_s
        self._since: dict[str, float] = {}  # signature -> when it was first seen null
        self._sent: dict[str, _Sent] = {}

    async def look(
        self, unseen: list[Watched], unanswered: frozenset[str] = frozenset()
    ) -> list[tuple[Watched, Expired]]:
        """This round's null signatures: the ones provably expired; the others due are
        sent again. Signatures neither in `unseen` nor `unanswered` (this round's status
        request for them was refused) have landed or are no longer watched: forgotten."""
        now = time.monotonic()
        current = {item.signature for item in unseen} | unanswered
        self._since = {s: since for s, since in self._since.items() if s in current}
        self._sent = {s: sent for s, sent in self._sent.items() if s in current}
        due = [
            item
            for item in unseen
            if now - self._since.setdefault(item.signature, now) >= self._resend_every_s
        ]
        if not due:
            return []
        await self._load([item for item in due if item.signature not in self._sent])
        looked = [
            (item, self._sent[item.signature]) for item in due if item.signature in self._sent
        ]
        if not looked:
            return []
        height = await self._ctx.rpc.block_height()  # before the status read: the proof
        past = [(item, sent) for item, sent in looked if height > sent.expired_after]
        again = await statuses_of(self._ctx.rpc, [item.signature for item, _ in past])
        expired = [  # answered, and null: a refused read proves nothing
            (item, Expired(height))
            for item, _ in past
            if item.signature in again and again[item.signature] is None
        ]
        await asyncio.gather(  # together: one batch of sends
            *(self._resend(sent, now) for _, sent in looked if height <= sent.expired_after)
        )
        for item, _ in expired:
            del self._sent[item.signature]
        return expired

    async def _load(self, new: list[Watched]) -> None:
        if not new:
            return
        states = await load_orders(self._ctx.store, [item.order_id for item in new])
        for item in new:
            state = states.get(item.order_id)
            if state is not None and state.signature == item.signature:
                self._sent[item.signature] = _Sent(self._ctx, state)

    async def _resend(self, sent: _Sent, now: float) -> None:
        if now - sent.resent_at < self._resend_every_s:
            return
        sent.resent_at = now
        await send_unacknowledged(self._ctx.rpc, sent.state)

"""A hand-written chain for step tests: two pools, a block height, scripted statuses.

It is all three ports at once: the quote service, the RPC node and the wallet (which
"signs" by hashing what it builds, so the same swap and blockhash give the same
signature, as ed25519 does).
"""

from __future__ import annotations

import base64
import hashlib
from collections import deque
from collections.abc import Callable

import msgspec

from commands.chain_types import (
    Blockhash,
    ExecutedLeg,
    LandedTransaction,
    ProgramFailure,
    SignatureStatus,
    SignedTransaction,
    SwapRequest,
)
from commands.ports import VenueRejected
from commands.quote_types import (
    Ladder,
    LadderPoint,
    LegOrder,
    LegsQuote,
    PlanStep,
    PoolLadder,
    SwapInfo,
)
from commands.step_context import ExecutionPolicy, StepContext
from db.memory import InMemoryEventStore
from domain.routing import VenueUnavailable
from simulator.base58 import b58encode

POOLS = {"RayPool": ("raydium", "Raydium CPMM", 150), "MetPool": ("meteora", "Meteora DLMM", 151)}


EXPIRY_JUMP = 1_000  # blocks: past any lastValidBlockHeight and expiry margin of a test


def pool_out(pool: str, amount_in: int) -> int:
    """Output per atomic input falls as the amount grows (price impact)."""
    price = POOLS[pool][2]
    return amount_in * price // 1000 - amount_in * amount_in // 10**12


class Built(msgspec.Struct, frozen=True):
    """What the fake wallet "signs": its wire bytes are this, JSON-encoded."""

    swap: SwapRequest
    blockhash: Blockhash


class Sent(msgspec.Struct, frozen=True):
    """One send the fake node took in (its answer may have been lost all the same)."""

    signature: str
    built: Built

    @property
    def last_valid_block_height(self) -> int:
        return self.built.blockhash.last_valid_block_height


def _refuse(status: int) -> None:
    if status >= 500:
        raise VenueUnavailable(f"sendTransaction: HTTP {status}")
    raise VenueRejected(status, None, "too many requests")


class WorkerCrashed(Exception):
    """The process running a step died at this line (nothing after it happened)."""


class FakeVenue:
    def __init__(self) -> None:
        self.height = 1_000
        self.sent: list[Sent] = []  # every send the node took in, in order
        self.known: set[str] = set()
        self.script: deque[str] = deque()  # states the next status calls answer
        self.down = False
        self.refused_status_calls: set[int] = set()  # these status calls (1, 2, ...) get a 429
        self.crash_on_send = False  # the worker dies while sending: nothing leaves
        self.status_calls = 0
        # A hostile RPC (issue 9): each knob alone or together.
        # How the next sends are answered: "lost" (accepted, the answer never comes
        # back), "429" or "503" (refused, not accepted), "accepted 429" (accepted, then
        # refused all the same); an empty queue answers every send truly.
        self.send_answers: deque[str] = deque()
        self.lagging: dict[str, int] = {}  # signature -> status reads still answered null
        self.before_height: list[Callable[[], None]] = []  # run at the next block-height read
        self._landed: dict[str, LandedTransaction] = {}

    async def ladder(self, input_mint: str, output_mint: str, amounts: list[int]) -> Ladder:
        self._check()
        return Ladder(
            context_slot=7,
            pools=[
                PoolLadder(
                    amm_key=pool,
                    label=label,
                    venue=venue,
                    quotes=[
                        LadderPoint(
                            in_amount=str(a),
                            out_amount=str(pool_out(pool, a)),
                            fee_amount="1",
                            price_impact_pct="0.001",
                        )
                        for a in amounts
                    ],
                )
                for pool, (venue, label, _) in POOLS.items()
            ],
        )

    async def quote_legs(
        self, input_mint: str, output_mint: str, legs: list[LegOrder], slippage_bps: int
    ) -> LegsQuote:
        self._check()
        plan = [
            PlanStep(
                swap_info=SwapInfo(
                    amm_key=leg.pool,
                    label=POOLS[leg.pool][1],
                    in_amount=leg.amount_in,
                    out_amount=str(pool_out(leg.pool, int(leg.amount_in))),
                    fee_amount="1",
                )
            )
            for leg in legs
        ]
        total = sum(int(step.swap_info.out_amount) for step in plan)
        return LegsQuote(
            out_amount=str(total), price_impact_pct="0.001", route_plan=plan, context_slot=7
        )

    async def build(self, swap: SwapRequest, blockhash: Blockhash) -> SignedTransaction:
        wire = msgspec.json.encode(Built(swap, blockhash))
        signature = b58encode(hashlib.sha512(wire).digest())
        return SignedTransaction(signature=signature, transaction=base64.b64encode(wire).decode())

    async def latest_blockhash(self) -> Blockhash:
        self._check()
        return Blockhash(
            blockhash=f"hash{self.height}",
            last_valid_block_height=self.height + 150,
            slot=self.height + 10,
        )

    async def block_height(self) -> int:
        self._check()
        while self.before_height:
            self.before_height.pop(0)()
        return self.height

    async def send_transaction(self, transaction: str) -> str:
        self._check()
        if self.crash_on_send:
            raise WorkerCrashed("the worker died while sending")
        answer = self.send_answers.popleft() if self.send_answers else "ok"
        if answer in ("429", "503"):
            _refuse(int(answer))
        wire = base64.b64decode(transaction)
        signature = b58encode(hashlib.sha512(wire).digest())
        self.known.add(signature)
        self.sent.append(Sent(signature, msgspec.json.decode(wire, type=Built)))
        if answer == "lost":
            raise VenueUnavailable("sendTransaction: timed out")
        if answer == "accepted 429":
            _refuse(429)
        return signature

    async def signature_statuses(self, signatures: list[str]) -> list[SignatureStatus | None]:
        self._check()
        self.status_calls += 1
        if self.status_calls in self.refused_status_calls:
            raise VenueUnavailable("RPC node answered HTTP 429")
        return [self._status(signature) for signature in signatures]

    async def landed_transactions(self, signatures: list[str]) -> list[LandedTransaction | None]:
        self._check()
        return [self._landed.get(signature) for signature in signatures]

    def _status(self, signature: str) -> SignatureStatus | None:
        if signature not in self.known:
            return None
        if self.lagging.get(signature, 0) > 0:
            self.lagging[signature] -= 1  # landed, but this node does not show it yet
            return None
        state = self.script.popleft() if self.script else "pending"
        if state == "pending":  # in no block (yet, or ever: Solana cannot tell)
            return None
        built = next(sent.built for sent in self.sent if sent.signature == signature)
        failure = None
        if state == "failed":
            failure = ProgramFailure(
                name="ExceededSlippage", code=6005, instruction_index=2, program="CPMM"
            )
        legs = tuple(
            ExecutedLeg(
                pool=leg.pool,
                amount_in=leg.amount_in,
                amount_out=0 if failure else pool_out(leg.pool, leg.amount_in),
            )
            for leg in built.swap.legs
        )
        self._landed[signature] = LandedTransaction(
            slot=99,
            fee_lamports=5_000,
            failure=failure,
            amount_out=sum(leg.amount_out for leg in legs),
            legs=() if failure else legs,
        )
        commitment = "processed" if state == "processed" else "confirmed"
        return SignatureStatus(slot=99, confirmation_status=commitment, failed=failure is not None)

    def expire(self) -> None:
        """Move the chain past any blockhash handed out so far, and any margin."""
        self.height += EXPIRY_JUMP

    def _check(self) -> None:
        if self.down:
            raise VenueUnavailable("fake venue is down")


def fake_context(venue: FakeVenue, policy: ExecutionPolicy | None = None) -> StepContext:
    """A step context on an empty in-memory store whose three ports are all `venue`."""
    return StepContext(InMemoryEventStore(), venue, venue, venue, policy or ExecutionPolicy())

"""A hand-written venue for step tests: two pools, a block height, scripted statuses."""

from __future__ import annotations

from collections import deque

from domain.routing import VenueUnavailable
from workers.wire import (
    Blockhash,
    BlockHeight,
    Ladder,
    LadderPoint,
    LegOrder,
    LegResult,
    LegsQuote,
    PlanStep,
    PoolLadder,
    SendResult,
    SignatureStatus,
    Statuses,
    SwapInfo,
    SwapTransaction,
    TxError,
    TxResult,
)

POOLS = {"RayPool": ("raydium", "Raydium CPMM", 150), "MetPool": ("meteora", "Meteora DLMM", 151)}


def pool_out(pool: str, amount_in: int) -> int:
    """Output per atomic input falls as the amount grows (price impact)."""
    price = POOLS[pool][2]
    return amount_in * price // 1000 - amount_in * amount_in // 10**12


class FakeVenue:
    def __init__(self) -> None:
        self.height = 1_000
        self.sent: list[SwapTransaction] = []
        self.known: set[str] = set()
        self.script: deque[str] = deque()  # states the next status calls answer
        self.down = False
        self.sends_down = False  # only sending fails (a crash between sign and send)
        self.status_calls = 0

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

    async def latest_blockhash(self) -> Blockhash:
        self._check()
        return Blockhash(
            blockhash=f"hash{self.height}",
            last_valid_block_height=self.height + 150,
            block_height=self.height,
            slot=self.height + 10,
        )

    async def block_height(self) -> BlockHeight:
        self._check()
        return BlockHeight(block_height=self.height, slot=self.height + 10)

    async def send_transaction(self, transaction: SwapTransaction) -> SendResult:
        self._check()
        if self.sends_down:
            raise VenueUnavailable("fake venue does not take transactions")
        duplicate = transaction.signature in self.known
        self.known.add(transaction.signature)
        self.sent.append(transaction)
        return SendResult(signature=transaction.signature, duplicate=duplicate)

    async def signature_statuses(self, signatures: list[str]) -> Statuses:
        self._check()
        self.status_calls += 1
        return Statuses(value=[self._status(signature) for signature in signatures])

    def _status(self, signature: str) -> SignatureStatus | None:
        if signature not in self.known:
            return None
        state = self.script.popleft() if self.script else "pending"
        tx = next(t for t in reversed(self.sent) if t.signature == signature)
        err = None
        if state == "failed":
            err = TxError(name="ExceededSlippage", code=6005, message="amount out 1 < minimum 2")
        if state == "expired":
            err = TxError(name="BlockhashNotFound", code=-1005, message="expired")
        result = None
        if state in ("confirmed", "failed"):
            legs = [
                LegResult(
                    pool=leg.pool,
                    in_amount=leg.amount_in,
                    out_amount="0" if err else str(pool_out(leg.pool, int(leg.amount_in))),
                    fee_amount="1",
                )
                for leg in tx.legs
            ]
            out = sum(int(leg.out_amount) for leg in legs)
            result = TxResult(
                slot=99, in_amount="0", out_amount=str(out), fee_lamports=5_000, legs=legs
            )
        return SignatureStatus(
            signature=signature,
            state=state,
            slot=99 if result else None,
            confirmation_status="confirmed" if result else None,
            err=err,
            result=result,
        )

    def _check(self) -> None:
        if self.down:
            raise VenueUnavailable("fake venue is down")

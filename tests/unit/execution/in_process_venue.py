"""The simulator's core as a `workers.ports.Venue`, without HTTP: the same JSON shapes,
converted in memory, for fast and exactly repeatable runs."""

from __future__ import annotations

from typing import TypeVar

import msgspec

from simulator.core import Simulator
from simulator.requests import LadderRequest, Leg, LegsRequest, SendTransaction
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


def _as(kind: type[T], value: object) -> T:
    return msgspec.json.decode(msgspec.json.encode(value), type=kind)


class InProcessVenue:
    def __init__(self, simulator: Simulator) -> None:
        self.simulator = simulator

    async def ladder(self, input_mint: str, output_mint: str, amounts: list[int]) -> Ladder:
        request = LadderRequest(input_mint=input_mint, output_mint=output_mint, amounts=[*amounts])
        return _as(Ladder, self.simulator.quote(request))

    async def quote_legs(
        self, input_mint: str, output_mint: str, legs: list[LegOrder], slippage_bps: int
    ) -> LegsQuote:
        request = LegsRequest(
            input_mint=input_mint,
            output_mint=output_mint,
            legs=[Leg(pool=leg.pool, amount_in=leg.amount_in) for leg in legs],
            slippage_bps=slippage_bps,
        )
        return _as(LegsQuote, self.simulator.quote_legs(request))

    async def latest_blockhash(self) -> Blockhash:
        return _as(Blockhash, self.simulator.latest_blockhash())

    async def block_height(self) -> BlockHeight:
        return _as(BlockHeight, self.simulator.block_height())

    async def send_transaction(self, transaction: SwapTransaction) -> SendResult:
        request = msgspec.json.decode(msgspec.json.encode(transaction), type=SendTransaction)
        return _as(SendResult, self.simulator.send_transaction(request))

    async def signature_statuses(self, signatures: list[str]) -> Statuses:
        return _as(Statuses, self.simulator.signature_statuses(signatures))

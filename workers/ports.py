"""What the steps need from the venue, as a protocol (the HTTP client, or a test fake)."""

from __future__ import annotations

from typing import Protocol

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


class VenueRejected(Exception):
    """The venue refused a request (4xx); `field` names what it refused."""

    def __init__(self, status: int, field: str | None, message: str) -> None:
        super().__init__(f"{status} {field}: {message}")
        self.status = status
        self.field = field
        self.message = message


class Venue(Protocol):
    """Quotes (aggregator) and chain access (RPC node). Raises
    `domain.routing.VenueUnavailable` when unreachable, `VenueRejected` on a 4xx."""

    async def ladder(self, input_mint: str, output_mint: str, amounts: list[int]) -> Ladder: ...

    async def quote_legs(
        self, input_mint: str, output_mint: str, legs: list[LegOrder], slippage_bps: int
    ) -> LegsQuote: ...

    async def latest_blockhash(self) -> Blockhash: ...

    async def block_height(self) -> BlockHeight: ...

    async def send_transaction(self, transaction: SwapTransaction) -> SendResult: ...

    async def signature_statuses(self, signatures: list[str]) -> Statuses: ...

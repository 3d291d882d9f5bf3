"""What the handlers need from the outside world, as structural protocols.

`db.event_store.PostgresEventStore` and `db.memory.InMemoryEventStore` both satisfy
`EventStore`; `workers.solana` implements the others: the RPC node (`RpcNode`), the
quote service (`QuoteService`), the new-pool feed (`LaunchFeed`) and the wallet that builds
and signs (`TransactionBuilder`),
each without importing this module. A user points the first two at different places
(SOLANA_RPC_URL, QUOTE_API_URL).
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Protocol

from commands.chain_types import (
    Blockhash,
    Creations,
    LandedTransaction,
    SignatureStatus,
    SignedTransaction,
    SwapRequest,
)
from commands.quote_types import Ladder, LegOrder, LegsQuote
from domain.records import AppendResult, NewEvent, RecordedEvent


class EventStore(Protocol):
    async def append(
        self,
        stream_id: str,
        expected_version: int,
        events: Sequence[NewEvent],
        *,
        command_id: str | None = None,
        request_hash: str = "",
    ) -> AppendResult: ...

    async def read_stream(self, stream_id: str, after_version: int = 0) -> list[RecordedEvent]: ...

    async def read_streams(self, stream_ids: Sequence[str]) -> dict[str, list[RecordedEvent]]:
        """Several whole streams in one read, by stream id (absent: no events)."""
        ...


class VenueRejected(Exception):
    """The RPC node or the quote service refused a request; `field` names what it
    refused (for an RPC error, `status` is Solana's JSON-RPC error code)."""

    def __init__(self, status: int, field: str | None, message: str) -> None:
        super().__init__(f"{status} {field}: {message}")
        self.status = status
        self.field = field
        self.message = message


class TransactionTooLarge(Exception):
    """The legs do not fit one transaction (Solana's packet: 1,232 bytes)."""

    def __init__(self, size: int, limit: int) -> None:
        super().__init__(f"the transaction would be {size} bytes; at most {limit} fit")
        self.size = size
        self.limit = limit


class QuoteService(Protocol):
    """Quotes (an aggregator, Jupiter-shaped). Raises `domain.routing.VenueUnavailable`
    when unreachable, `VenueRejected` on a 4xx."""

    async def ladder(self, input_mint: str, output_mint: str, amounts: list[int]) -> Ladder: ...

    async def quote_legs(
        self, input_mint: str, output_mint: str, legs: list[LegOrder], slippage_bps: int
    ) -> LegsQuote: ...


class RpcNode(Protocol):
    """A Solana JSON-RPC node. Raises `domain.routing.VenueUnavailable` when it does not
    answer, `VenueRejected` when it answers with an error."""

    async def latest_blockhash(self) -> Blockhash: ...

    async def block_height(self) -> int: ...

    async def send_transaction(self, transaction: str) -> str:
        """Send wire bytes (base64) as they are, without preflight; the signature."""
        ...

    async def signature_statuses(self, signatures: list[str]) -> list[SignatureStatus | None]:
        """Each signature's status; None when it is in no block (yet, or ever)."""
        ...

    async def landed_transactions(self, signatures: list[str]) -> list[LandedTransaction | None]:
        """Each confirmed transaction's outcome; None when not (yet) confirmed."""
        ...


class Announcements(Protocol):
    """The node telling of new creations as they confirm (a subscription): `bell` rings
    for each; `live` while it can be trusted; `last_rang`: monotonic time of the last
    ring. What rang is read through the feed as before."""

    bell: asyncio.Event
    live: bool
    last_rang: float

    async def run(self, stop: asyncio.Event) -> None:
        """Keep the subscription open until `stop`."""
        ...


class LaunchFeed(Protocol):
    """Pool creations on the chain, found over JSON-RPC as a sniper bot finds them.
    Raises like `RpcNode`. `announcements`: None where the node offers no subscription
    (the watcher then polls)."""

    @property
    def announcements(self) -> Announcements | None: ...

    async def creations_after(self, newest: str | None) -> list[str]:
        """Signatures of the creations confirmed after `newest` (None: all), oldest first."""
        ...

    async def creations(self, signatures: list[str]) -> Creations:
        """The creations as their logs tell them, and the signatures not readable yet."""
        ...

    async def slot(self) -> int: ...

    async def block_time(self, slot: int) -> int | None:
        """The unix time of a produced slot's block (`getBlockTime`); None when the node
        has no block for it (skipped, or not produced yet)."""
        ...


class TransactionBuilder(Protocol):
    """The wallet: builds the swap's transaction and signs it."""

    async def build(self, swap: SwapRequest, blockhash: Blockhash) -> SignedTransaction:
        """Raises `TransactionTooLarge` when the legs do not fit one transaction."""
        ...

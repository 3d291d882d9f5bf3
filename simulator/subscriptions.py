"""`logsSubscribe` over the node's WebSocket (SIMULATOR.md §12): how a sniper bot on
mainnet hears of a pool creation the moment its block is confirmed, instead of asking
`getSignaturesForAddress` ten times a second.

Solana's wire: `{"method": "logsSubscribe", "params": [{"mentions": [ADDRESS]},
{"commitment": "confirmed"}]}` answers a subscription id; each transaction mentioning
ADDRESS that reaches the commitment is then pushed as `logsNotification`
(`{"context": {"slot"}, "value": {"signature", "err", "logs"}}`); `logsUnsubscribe`
ends it. As on Solana, `mentions` takes exactly one address.

The simulator announces the transactions of its launchpad (pool creations, the
transactions `getSignaturesForAddress` serves): after every change of slot (and after a
launch, for `processed`), each subscription is sent the creations mentioning its
address that now reach its commitment, oldest first, each once.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import msgspec

from simulator.answers import rpc_error
from simulator.core import Simulator
from simulator.errors import INVALID_PARAMS, RpcError, invalid_params
from simulator.tx_views import COMMITMENT_RANK, reaches

Send = Callable[[bytes], None]  # queues one text frame for a connection
_encoder = msgspec.json.Encoder()


@dataclass
class _Subscription:
    id: int
    address: str
    commitment: str
    send: Send
    announced: int = 0  # creations mentioning `address` already sent


@dataclass
class LogSubscriptions:
    """Every live `logsSubscribe` of one simulator's WebSocket connections."""

    simulator: Simulator
    _live: dict[int, _Subscription] = field(default_factory=dict)
    _next_id: int = 1

    @property
    def live(self) -> int:
        return len(self._live)

    def answer(self, message: bytes, send: Send, owned: set[int]) -> bytes:
        """The JSON-RPC answer to one frame of a connection whose subscriptions are
        `owned`. Send it before calling `announce`, so a subscription's id arrives
        before its first notification."""
        try:
            call = msgspec.json.decode(message)
        except msgspec.DecodeError:
            return _error(None, RpcError(-32700, "Parse error"))
        if not isinstance(call, dict):
            return _error(None, RpcError(-32600, "Invalid Request"))
        ident = call.get("id")
        try:
            result = self._call(call.get("method"), call.get("params") or [], send, owned)
        except RpcError as error:
            return _error(ident, error)
        return _encoder.encode({"jsonrpc": "2.0", "result": result, "id": ident})

    def drop(self, owned: set[int]) -> None:
        """A connection closed: its subscriptions end with it."""
        for ident in owned:
            self._live.pop(ident, None)
        owned.clear()

    def announce(self) -> None:
        """Send each subscription the creations that now reach its commitment."""
        sim = self.simulator
        slot = sim.chain.slot
        for sub in self._live.values():
            signatures = sim.launchpad.signatures.get(sub.address, [])
            while sub.announced < len(signatures):
                record = sim.ledger.get(signatures[sub.announced])
                if record is None or not reaches(record, slot, sub.commitment):
                    break  # later ones landed later: none of them reaches it either
                executed = record.executed
                value: dict[str, object] = {
                    "signature": record.tx.signature,
                    "err": executed.err if executed is not None else None,
                    "logs": executed.logs if executed is not None else [],
                }
                sub.send(_notification(sub.id, record.landed_slot or slot, value))
                sub.announced += 1

    def _call(self, method: object, params: Any, send: Send, owned: set[int]) -> object:
        if method == "logsSubscribe":
            sub = self._subscription(params, send)
            self._live[sub.id] = sub
            owned.add(sub.id)
            return sub.id
        if method == "logsUnsubscribe":
            if not isinstance(params, list) or len(params) != 1 or params[0] not in owned:
                raise invalid_params("Invalid subscription id.")
            owned.discard(params[0])
            del self._live[params[0]]
            return True
        raise RpcError(-32601, "Method not found")

    def _subscription(self, params: Any, send: Send) -> _Subscription:
        if not isinstance(params, list) or not params or not isinstance(params[0], dict):
            raise invalid_params('Invalid params: expected {"mentions": [address]}')
        mentions = params[0].get("mentions")
        if not isinstance(mentions, list) or len(mentions) != 1 or not isinstance(mentions[0], str):
            raise RpcError(INVALID_PARAMS, "Invalid Request: Only 1 address supported")
        config = params[1] if len(params) > 1 and isinstance(params[1], dict) else {}
        commitment = config.get("commitment", "finalized")
        if commitment not in COMMITMENT_RANK:
            raise invalid_params(f"Invalid params: unknown commitment {commitment!r}")
        ident, self._next_id = self._next_id, self._next_id + 1
        address = mentions[0]
        # Only what comes after the subscription is announced, as on Solana.
        already = sum(
            1
            for signature in self.simulator.launchpad.signatures.get(address, [])
            if (record := self.simulator.ledger.get(signature)) is not None
            and reaches(record, self.simulator.chain.slot, commitment)
        )
        return _Subscription(ident, address, commitment, send, announced=already)


def _notification(ident: int, slot: int, value: dict[str, object]) -> bytes:
    return _encoder.encode(
        {
            "jsonrpc": "2.0",
            "method": "logsNotification",
            "params": {
                "result": {"context": {"slot": slot}, "value": value},
                "subscription": ident,
            },
        }
    )


def _error(ident: object, error: RpcError) -> bytes:
    return _encoder.encode(rpc_error(ident, error.code, error.message))

"""Sends of one turn of the loop share JSON-RPC requests of at most MAX_BATCH; each send
gets its own signature or its own refusal, and no answer fails them all."""

from __future__ import annotations

import asyncio
from typing import Any

import msgspec
import pytest

from commands.ports import VenueRejected
from domain.routing import VenueUnavailable
from workers.solana.send_batch import MAX_BATCH, SendBatcher


class Node:
    """A transport that answers each sendTransaction with its payload, or refuses it."""

    def __init__(self, down: bool = False) -> None:
        self.bodies: list[list[dict[str, Any]]] = []
        self.down = down

    async def request(self, method: str, path: str, body: bytes | None = None) -> tuple[int, bytes]:
        if self.down:
            raise VenueUnavailable("no answer")
        calls = msgspec.json.decode(body or b"")
        self.bodies.append(calls)
        answers = [
            {"jsonrpc": "2.0", "id": c["id"], "error": {"code": -32002, "message": "refused"}}
            if c["params"][0] == "bad"
            else {"jsonrpc": "2.0", "id": c["id"], "result": f"sig-{c['params'][0]}"}
            for c in reversed(calls)  # a node may answer a batch in any order
        ]
        return 200, msgspec.json.encode(answers)

    async def close(self) -> None:
        return None


async def test_sends_of_one_turn_share_requests_and_keep_their_own_answers() -> None:
    node = Node()
    batcher = SendBatcher(node)
    names = [str(n) for n in range(MAX_BATCH + 3)] + ["bad"]
    results = await asyncio.gather(*(batcher.send(n) for n in names), return_exceptions=True)
    assert [len(body) for body in node.bodies] == [MAX_BATCH, 4]
    assert results[:-1] == [f"sig-{n}" for n in names[:-1]]
    assert isinstance(results[-1], VenueRejected)
    assert results[-1].status == -32002
    assert all(
        call["params"][1] == {"encoding": "base64", "skipPreflight": True}
        for body in node.bodies
        for call in body
    )


async def test_no_answer_fails_every_send_of_the_batch() -> None:
    batcher = SendBatcher(Node(down=True))
    results = await asyncio.gather(batcher.send("a"), batcher.send("b"), return_exceptions=True)
    assert all(isinstance(result, VenueUnavailable) for result in results)
    with pytest.raises(VenueUnavailable):
        await batcher.send("c")  # a later turn: a request of its own, failing alike

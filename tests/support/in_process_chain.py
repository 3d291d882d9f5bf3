"""The engine's own Solana clients (`workers.solana`) on an in-process Simulator, without
sockets: each request goes straight to the simulator's answers (`simulator.answers`),
the bytes the HTTP service would send, so runs are fast and exactly repeatable."""

from __future__ import annotations

from urllib.parse import parse_qsl, urlsplit

from commands.step_context import ExecutionPolicy, StepContext
from db.memory import InMemoryEventStore
from simulator.answers import Answers, read_calls
from simulator.core import Simulator
from workers.solana.connect import SolanaClients, over
from workers.solana.wallet import load_keypair


class InProcessTransport:
    """`workers.solana.http.Transport` over one Simulator's answers."""

    def __init__(self, answers: Answers) -> None:
        self.answers = answers
        self.requests = 0

    async def request(self, method: str, path: str, body: bytes | None = None) -> tuple[int, bytes]:
        self.requests += 1
        if method == "POST" and path == "/":
            return 200, self.answers.answer_rpc(read_calls(body or b""))
        parts = urlsplit(path)
        query = dict(parse_qsl(parts.query))
        return self.answers.answer_quote(method, parts.path, query, body or b"")

    async def close(self) -> None:
        return None


def in_process_clients(simulator: Simulator) -> SolanaClients:
    """The RPC node, quote service and wallet the engine would open, on `simulator`;
    the wallet's key is the one the embedded run derives from the simulator's seed."""
    transport = InProcessTransport(Answers(simulator, clock_driven=False))
    return over(transport, transport, load_keypair("", simulator.config.seed))


def in_process_context(
    simulator: Simulator, policy: ExecutionPolicy | None = None
) -> tuple[StepContext, SolanaClients]:
    """A step context on an empty in-memory store and `simulator`'s clients."""
    clients = in_process_clients(simulator)
    ctx = StepContext(
        InMemoryEventStore(),
        clients.rpc,
        clients.quotes,
        clients.wallet,
        policy or ExecutionPolicy(),
    )
    return ctx, clients

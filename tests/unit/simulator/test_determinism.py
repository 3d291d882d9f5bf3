"""One seed and the same calls give byte-identical answers; another seed another run."""

import msgspec

from simulator.config import SimulatorConfig
from simulator.core import Simulator
from simulator.quote_api import QuoteApi
from simulator.requests import LadderRequest
from simulator.rpc import Rpc
from simulator.universe import SOL
from tests.support.solana_tx import b64, pool_addresses, rpc_call, signature_of, swap_tx

UNKNOWN = "1" * 64


def _session(seed: int) -> list[bytes]:
    """A scripted run with market activity, forks and skips all on."""
    sim = Simulator(SimulatorConfig(seed=seed))
    rpc, quotes = Rpc(sim), QuoteApi(sim)
    log = [msgspec.json.encode(quotes.tokens())]
    amm, _, dlmm = pool_addresses(sim, "SOL/USDC")
    sent: list[str] = []
    for round_number in range(6):
        ladder = LadderRequest(
            input_mint="SOL", output_mint="USDC", amounts=["1000000000", "50000000000"]
        )
        log.append(msgspec.json.encode(quotes.ladder(ladder)))
        legs = [(amm, 10**9 * (round_number + 1), 0), (dlmm, 5 * 10**8, 0)]
        raw = swap_tx(sim, legs, SOL.mint, compute_unit_price=round_number * 2_000)
        options = {"encoding": "base64", "skipPreflight": True}
        log.append(msgspec.json.encode(rpc_call(rpc, "sendTransaction", b64(raw), options)))
        sent.append(signature_of(raw))
        log.append(msgspec.json.encode(rpc_call(rpc, "getSignatureStatuses", sent)))
        log.append(msgspec.json.encode(sim.advance_slots(7)))
        log.append(msgspec.json.encode(rpc_call(rpc, "getLatestBlockhash")))
    sim.advance_slots(200)
    log.append(msgspec.json.encode(rpc_call(rpc, "getSignatureStatuses", [*sent, UNKNOWN])))
    log.append(msgspec.json.encode(quotes.tokens()))
    return log


def test_same_seed_same_calls_give_identical_bytes() -> None:
    assert _session(11) == _session(11)


def test_another_seed_gives_another_run() -> None:
    first, other = _session(11), _session(12)
    assert first[0] != other[0]  # pool addresses
    assert first[-1] != other[-1]  # market state


def test_the_run_actually_settles_orders() -> None:
    statuses = msgspec.json.decode(_session(11)[-2])["value"]
    settled = {status["confirmationStatus"] for status in statuses if status is not None}
    assert settled == {"finalized"}
    assert statuses[-1] is None

import msgspec

from simulator.config import SimulatorConfig
from simulator.core import Simulator
from simulator.requests import LadderRequest
from tests.unit.simulator.orders import pool_addresses, signature, swap


def _session(seed: int) -> list[bytes]:
    """A scripted run with market activity, forks and skips all on."""
    sim = Simulator(SimulatorConfig(seed=seed))
    log = [msgspec.json.encode(sim.tokens())]
    amm, _, dlmm = pool_addresses(sim, "SOL/USDC")
    sent: list[str] = []
    for round_number in range(6):
        ladder = LadderRequest(
            input_mint="SOL", output_mint="USDC", amounts=["1000000000", "50000000000"]
        )
        log.append(msgspec.json.encode(sim.quote(ladder)))
        legs = [(amm, 10**9 * (round_number + 1)), (dlmm, 5 * 10**8)]
        request = swap(sim, f"order-{round_number}", legs, compute_unit_price=round_number * 2_000)
        log.append(msgspec.json.encode(sim.send_transaction(request)))
        sent.append(request.signature)
        log.append(msgspec.json.encode(sim.signature_statuses(sent)))
        log.append(msgspec.json.encode(sim.advance_slots(7)))
        log.append(msgspec.json.encode(sim.latest_blockhash()))
    sim.advance_slots(200)
    log.append(msgspec.json.encode(sim.signature_statuses([*sent, signature("unknown")])))
    log.append(msgspec.json.encode(sim.tokens()))
    return log


def test_same_seed_same_calls_give_identical_bytes() -> None:
    assert _session(11) == _session(11)


def test_another_seed_gives_another_run() -> None:
    first, other = _session(11), _session(12)
    assert first[0] != other[0]  # pool addresses
    assert first[-1] != other[-1]  # market state


def test_the_run_actually_settles_orders() -> None:
    statuses = msgspec.json.decode(_session(11)[-2])
    states = {status["state"] for status in statuses["value"] if status is not None}
    assert states <= {"finalized", "failed", "expired"}
    assert "finalized" in states
    assert statuses["value"][-1] is None

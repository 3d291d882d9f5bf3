"""SIMULATOR_LEDGER=litesvm: CPMM pools created in and executed by the real program, the
same chain as our math to the byte (signatures, statuses, amounts, quotes), the program's
own errors, and the simulator's signature map in front of LiteSVM's 32."""

from __future__ import annotations

import pickle
from pathlib import Path
from typing import Any

import msgspec
import pytest

from simulator.config import LedgerMode, SimulatorConfig
from simulator.core import Simulator
from simulator.cpmm import CpmmPool
from simulator.cpmm_program.executed_pool import ExecutedCpmmPool
from simulator.durable import open_simulator
from simulator.errors import RpcError
from simulator.journal import JournalRefused
from simulator.quote_api import QuoteApi
from simulator.requests import LadderRequest
from simulator.rpc import Rpc
from simulator.universe import MEME, SOL
from tests.support.solana_tx import CERTAIN, b64, pool_addresses, rpc_call, swap_tx
from tests.unit.simulator.journaling import close

SLIPPAGE = {"InstructionError": [2, {"Custom": 6005}]}
LADDER = LadderRequest(input_mint="SOL", output_mint="USDC", amounts=["1000000000", "50000000000"])
SEND = {"encoding": "base64", "skipPreflight": True}
TRANSACTION = {"maxSupportedTransactionVersion": 0}


def _config(ledger: LedgerMode, **changes: Any) -> SimulatorConfig:
    return SimulatorConfig(seed=11, ledger=ledger, **changes)


def _cpmm_pools(sim: Simulator) -> list[CpmmPool]:
    return [listing.pool for listing in sim.catalog.listings if isinstance(listing.pool, CpmmPool)]


def _session(ledger: LedgerMode) -> tuple[list[bytes], Simulator]:
    """A scripted run, market on: swaps over the CPMM pools (alone and split with the
    others, SOL in and MEME in), one under its minimum, quotes, statuses, transactions."""
    sim = Simulator(_config(ledger))
    rpc, quotes = Rpc(sim), QuoteApi(sim)
    amm, cpmm, dlmm = pool_addresses(sim, "SOL/USDC")
    meme_cpmm = pool_addresses(sim, "MEME/SOL")[0]
    log = [msgspec.json.encode(quotes.tokens())]
    sent: list[str] = []
    for number in range(8):
        log.append(msgspec.json.encode(quotes.ladder(LADDER)))
        swaps = [
            swap_tx(sim, [(cpmm, 10**9 * (number + 1), 0)], SOL.mint),
            swap_tx(sim, [(cpmm, 3 * 10**9, 0), (dlmm, 10**9, 0)], SOL.mint),
            swap_tx(sim, [(meme_cpmm, 10**12 + number, 0)], MEME.mint),
            swap_tx(sim, [(amm, 10**9 + number, 0)], SOL.mint),
            # Far under what 1 SOL buys: the minimum is 10,000 USDC.
            swap_tx(sim, [(cpmm, 10**9 + number, 10**10)], SOL.mint),
        ]
        for raw in swaps:
            signature = rpc_call(rpc, "sendTransaction", b64(raw), SEND)
            assert isinstance(signature, str)
            sent.append(signature)
            log.append(msgspec.json.encode(signature))
        log.append(msgspec.json.encode(rpc_call(rpc, "getSignatureStatuses", sent)))
        log.append(msgspec.json.encode(sim.advance_slots(5)))
    sim.advance_slots(100)
    log.append(msgspec.json.encode(rpc_call(rpc, "getSignatureStatuses", sent)))
    log += [
        msgspec.json.encode(rpc_call(rpc, "getTransaction", signature, TRANSACTION))
        for signature in sent
    ]
    log.append(msgspec.json.encode(quotes.tokens()))
    return log, sim


def _message_lines(answer: bytes) -> tuple[bytes, list[str]]:
    """An answer with its "Error Message: ..." log lines apart: our math words a slippage
    failure itself, the program's is its own ("Exceeds desired slippage limit")."""
    decoded = msgspec.json.decode(answer)
    logs = decoded.get("meta", {}).get("logMessages", []) if isinstance(decoded, dict) else []
    messages = [line for line in logs if "Error Message: " in line]
    for line in messages:
        logs[logs.index(line)] = line.split("Error Message: ")[0]
    return msgspec.json.encode(decoded), messages


def test_the_same_seed_gives_the_same_chain_in_both_ledgers() -> None:
    math, _ = _session("math")
    litesvm, sim = _session("litesvm")
    # Signatures, statuses, amounts, quotes and pools to the byte; logs but for the wording.
    assert [_message_lines(answer)[0] for answer in litesvm] == [
        _message_lines(answer)[0] for answer in math
    ]
    worded = [line for answer in litesvm for line in _message_lines(answer)[1]]
    assert len(worded) == 8
    assert all(line.endswith("Error Message: Exceeds desired slippage limit.") for line in worded)
    statuses = msgspec.json.decode(litesvm[-42])["value"]
    errors = [status["err"] for status in statuses]
    assert errors.count(SLIPPAGE) == 8, "the program refused each swap under its minimum"
    assert errors.count(None) == 32
    pools = _cpmm_pools(sim)
    assert len(pools) == 3
    assert all(isinstance(pool, ExecutedCpmmPool) for pool in pools)


def test_the_cpmm_pools_state_is_the_programs_accounts() -> None:
    _, sim = _session("litesvm")
    start = {
        p.info.address: (p.reserve_x, p.reserve_y) for p in _cpmm_pools(Simulator(_config("math")))
    }
    for pool in _cpmm_pools(sim):
        assert isinstance(pool, ExecutedCpmmPool)
        in_program = pool.program_pool
        assert (pool.reserve_x, pool.reserve_y) == in_program.reserves()
        assert (pool.vaults.x, pool.vaults.y) == in_program.vaults()
        assert in_program.reserves() != start[pool.info.address], "the pool never traded"


def test_a_preflight_under_the_minimum_fails_with_the_programs_error() -> None:
    sim = Simulator(_config("litesvm"))
    cpmm = pool_addresses(sim, "SOL/USDC")[1]
    with pytest.raises(RpcError) as refused:
        sim.send_transaction(swap_tx(sim, [(cpmm, 10**9, 10**10)], SOL.mint))
    assert isinstance(refused.value.data, dict)
    assert refused.value.data["err"] == SLIPPAGE
    assert any("ExceededSlippage" in line for line in refused.value.data["logs"])


def test_a_resend_after_more_than_32_others_never_executes_twice() -> None:
    # LiteSVM remembers 32 signatures; the simulator's map remembers every one.
    sim = Simulator(msgspec.structs.replace(CERTAIN, ledger="litesvm"))
    cpmm = pool_addresses(sim, "SOL/USDC")[1]
    first = swap_tx(sim, [(cpmm, 2 * 10**9, 0)], SOL.mint)
    signature = sim.send_transaction(first)
    for number in range(40):
        sim.send_transaction(swap_tx(sim, [(cpmm, 10**8 + number, 0)], SOL.mint))
        sim.advance_slots(1)
    assert sim.ledger.fate(signature) == "executed"
    [pool] = [p for p in _cpmm_pools(sim) if p.info.address == cpmm]
    assert isinstance(pool, ExecutedCpmmPool)
    before = pool.program_pool.vaults()
    assert sim.send_transaction(first, skip_preflight=True) == signature
    with pytest.raises(RpcError) as refused:
        sim.send_transaction(first)
    assert isinstance(refused.value.data, dict)
    assert refused.value.data["err"] == "AlreadyProcessed"
    sim.advance_slots(10)
    assert pool.program_pool.vaults() == before, "the re-sent swap ran again in the program"


def test_a_snapshot_carries_the_programs_pools() -> None:
    sim = Simulator(_config("litesvm"))
    sim.advance_slots(50)
    copy = pickle.loads(pickle.dumps(sim))
    sim.advance_slots(100)
    copy.advance_slots(100)
    mine, theirs = _cpmm_pools(sim), _cpmm_pools(copy)
    assert [(p.reserve_x, p.reserve_y) for p in theirs] == [
        (p.reserve_x, p.reserve_y) for p in mine
    ]
    for pool in theirs:
        assert isinstance(pool, ExecutedCpmmPool)
        assert (pool.reserve_x, pool.reserve_y) == pool.program_pool.reserves()


def test_a_journal_of_one_ledger_is_refused_by_the_other(tmp_path: Path) -> None:
    path = tmp_path / "chain.journal"
    close(open_simulator(_config("math"), path))
    with pytest.raises(JournalRefused, match="ledger 'math' -> 'litesvm'"):
        open_simulator(_config("litesvm"), path)


@pytest.mark.parametrize("x_to_y", [True, False])
def test_exact_output_swaps_run_in_the_program_as_in_our_math(x_to_y: bool) -> None:
    math, litesvm = Simulator(_config("math")), Simulator(_config("litesvm"))
    now = math.chain.unix_time()
    for ours, theirs in zip(_cpmm_pools(math), _cpmm_pools(litesvm), strict=True):
        assert isinstance(theirs, ExecutedCpmmPool)
        amount_out = ours.reserve_y // 1_000 if x_to_y else ours.reserve_x // 1_000
        assert theirs.swap_exact_out(amount_out, x_to_y, now) == ours.swap_exact_out(
            amount_out, x_to_y, now
        )
        assert theirs.program_pool.reserves() == (ours.reserve_x, ours.reserve_y)

"""Launches (SIMULATOR.md §8, §12): `simulator_launchPool`, the creation as a real bot
finds it over JSON-RPC, the pool's open time, the crowd, rugs, the seeded schedule, the
journal."""

from __future__ import annotations

import base64
import pickle
import struct
from pathlib import Path
from typing import Any

import msgspec
import pytest
from solders.pubkey import Pubkey

from simulator.config import SimulatorConfig
from simulator.core import Simulator
from simulator.durable import open_simulator
from simulator.errors import RpcError
from simulator.launch_tx import CREATE_POOL_FEE, POOL_CREATED, PoolCreated
from simulator.program_layouts import CPMM_PROGRAM
from simulator.quote_api import QuoteApi
from simulator.requests import LadderRequest
from simulator.rpc import Rpc
from simulator.universe import SOL
from tests.support.solana_tx import CERTAIN, WALLET, swap_tx
from tests.unit.simulator.journaling import assert_same_chain, close, restart

CONFIRMED = {"commitment": "confirmed"}
QUIET = msgspec.structs.replace(CERTAIN, seed=5)


def launch(rpc: Rpc, **params: Any) -> dict[str, Any]:
    body = {"quoteReserve": "100", "baseReserve": "800000000", "openInSlots": 3, **params}
    answer = rpc.call("simulator_launchPool", [body])
    assert isinstance(answer, dict)
    return answer


def creations(rpc: Rpc, address: str = CREATE_POOL_FEE, **config: Any) -> list[dict[str, Any]]:
    found = rpc.call("getSignaturesForAddress", [address, {**CONFIRMED, **config}])
    assert isinstance(found, list)
    return found


def created(rpc: Rpc, signature: str) -> PoolCreated:
    tx = rpc.call(
        "getTransaction",
        [signature, {**CONFIRMED, "maxSupportedTransactionVersion": 0}],
    )
    assert isinstance(tx, dict)
    lines = [line for line in tx["meta"]["logMessages"] if line.startswith(POOL_CREATED)]
    assert len(lines) == 1
    return msgspec.json.decode(lines[0].removeprefix(POOL_CREATED), type=PoolCreated)


def test_a_launch_is_found_through_the_rpc_as_a_bot_finds_it_one_slot_later() -> None:
    sim = Simulator(QUIET)
    rpc = Rpc(sim)
    answer = launch(rpc, freezable=True, mintRenounced=False, lpBurnedPct=40, topHolderPct=33)
    assert answer["slot"] == sim.chain.slot
    assert creations(rpc) == []  # confirmed in the next slot, as a real creation
    sim.advance_slots(1)
    (entry,) = creations(rpc)
    assert entry["signature"] == answer["signature"]
    assert entry["slot"] == answer["slot"]
    assert creations(rpc, CPMM_PROGRAM) == [entry]
    assert creations(rpc, answer["creator"]) == [entry]
    seen = created(rpc, entry["signature"])
    assert (seen.pool, seen.base_mint, seen.creator) == (
        answer["pool"],
        answer["baseMint"],
        answer["creator"],
    )
    assert seen.quote_mint == SOL.mint
    assert (seen.quote_reserve, seen.base_reserve) == ("100000000000", "800000000000000")
    assert (seen.freeze_authority, seen.mint_authority) == (answer["creator"], answer["creator"])
    assert (seen.lp_burned_pct, seen.top_holder_pct) == (40, 33)
    assert seen.open_time == answer["openTime"]


def test_the_mint_account_shows_the_authorities_a_filter_reads() -> None:
    rpc = Rpc(Simulator(QUIET))
    kept = launch(rpc, freezable=True, mintRenounced=False)
    renounced = launch(rpc)

    def authorities(mint: str) -> tuple[str | None, str | None, int]:
        info = rpc.call("getAccountInfo", [mint, {"encoding": "base64"}])
        assert isinstance(info, dict)
        data = base64.b64decode(info["value"]["data"][0])
        assert len(data) == 82
        mint_tag, freeze_tag = struct.unpack_from("<I", data, 0)[0], data[46:50]
        mint_authority = str(Pubkey(data[4:36])) if mint_tag else None
        freeze = str(Pubkey(data[50:82])) if freeze_tag != bytes(4) else None
        return mint_authority, freeze, data[44]

    assert authorities(kept["baseMint"]) == (kept["creator"], kept["creator"], 6)
    assert authorities(renounced["baseMint"]) == (None, None, 6)


def test_pages_come_newest_first_with_before_until_and_limit() -> None:
    sim = Simulator(QUIET)
    rpc = Rpc(sim)
    signatures = [launch(rpc)["signature"] for _ in range(4)]
    sim.advance_slots(1)
    newest_first = [entry["signature"] for entry in creations(rpc)]
    assert newest_first == signatures[::-1]
    assert [e["signature"] for e in creations(rpc, limit=2)] == signatures[:1:-1]
    assert [e["signature"] for e in creations(rpc, before=signatures[2])] == signatures[1::-1]
    assert [e["signature"] for e in creations(rpc, until=signatures[1])] == signatures[:1:-1]


def test_a_buy_before_the_open_fails_on_chain_and_one_at_the_open_fills() -> None:
    sim = Simulator(QUIET)
    rpc = Rpc(sim)
    answer = launch(rpc, crowd=False, openInSlots=4)
    assert answer["openSlot"] >= answer["slot"] + 4
    assert sim.chain.unix_time_at(answer["openSlot"] - 1) < answer["openTime"]
    pool, amount = answer["pool"], 10**9
    early = sim.send_transaction(swap_tx(sim, [(pool, amount, 1)], SOL.mint), skip_preflight=True)
    sim.advance_slots(1)  # CERTAIN: lands in the next block, before the open
    record = sim.ledger.get(early)
    assert record is not None
    assert record.executed is not None
    assert record.executed.err == {"InstructionError": [2, {"Custom": 6000}]}  # NotApproved
    sim.advance_slots(answer["openSlot"] - 1 - sim.chain.slot)
    at_open = sim.send_transaction(swap_tx(sim, [(pool, amount, 1)], SOL.mint), skip_preflight=True)
    sim.advance_slots(1)
    assert sim.chain.slot == answer["openSlot"]
    assert sim.ledger.fate(at_open) == "executed"
    held = sim.wallets.balance(str(WALLET.pubkey()), answer["baseMint"])
    assert held > 0
    # The wallet's new token account, as a client reads it back.
    owner = str(WALLET.pubkey())
    found = rpc.call("getTokenAccountsByOwner", [owner, {"mint": answer["baseMint"]}])
    assert isinstance(found, dict)
    (account,) = found["value"]
    balance = rpc.call("getTokenAccountBalance", [account["pubkey"]])
    assert isinstance(balance, dict)
    assert balance["value"]["amount"] == str(held)


def test_the_crowd_buys_at_the_top_of_the_block_and_a_higher_fee_goes_before_it() -> None:
    def bought(compute_unit_price: int, crowd: bool = True) -> tuple[int, list[int]]:
        sim = Simulator(QUIET)
        answer = launch(Rpc(sim), openInSlots=0, crowd=crowd)
        fees = [
            b.compute_unit_price for b in sim.launchpad.crowd.buys if b.slot <= sim.chain.slot + 1
        ]
        raw = swap_tx(
            sim, [(answer["pool"], 10**9, 1)], SOL.mint, compute_unit_price=compute_unit_price
        )
        sim.send_transaction(raw, skip_preflight=True)
        sim.advance_slots(1)
        return sim.wallets.balance(str(WALLET.pubkey()), answer["baseMint"]), fees

    alone, _ = bought(0, crowd=False)
    ahead, fees = bought(10**9)
    behind, _ = bought(0)
    assert fees, "this seed's crowd buys in the first block"
    assert max(fees) < 10**9
    assert ahead == alone  # it paid more than every sniper: first in the block
    assert behind < ahead  # it paid nothing: the crowd bought first and moved the price


def test_a_rug_empties_the_pool_after_its_slots() -> None:
    sim = Simulator(QUIET)
    rpc = Rpc(sim)
    answer = launch(rpc, openInSlots=0, rugAfterSlots=3, crowd=False)
    pool = sim.catalog.by_address(answer["pool"]).pool
    sim.advance_slots(answer["openSlot"] + 2 - sim.chain.slot)
    assert pool.quote(10**9, False, sim.chain.unix_time()).amount_out > 0
    sim.advance_slots(1)
    with pytest.raises(Exception, match="output"):
        pool.quote(10**9, False, sim.chain.unix_time())
    # A sale quote of the rugged token (an exit's) is answered: no price, every point an
    # error, so a seller sees nothing buys it (it crashed on the empty reserves before).
    request = LadderRequest(input_mint=answer["baseMint"], output_mint=SOL.mint, amounts=[10**6])
    (row,) = QuoteApi(sim).ladder(request).pools
    assert row.spot_price == "0"
    assert [point.error is not None for point in row.quotes] == [True]


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("venue", "orca"),
        ("quoteToken", "JUP"),
        ("quoteToken", "NOPE"),
        ("quoteReserve", "-1"),
        ("quoteReserve", "0.0000000001"),
        ("baseReserve", "lots"),
        ("baseDecimals", 12),
        ("openInSlots", -1),
        ("creator", "not-an-address"),
        ("mintRenounced", "yes"),
        ("lpBurnedPct", 101),
        ("topHolderPct", -1),
        ("rugAfterSlots", 0),
        ("colour", "red"),
    ],
)
def test_a_bad_launch_is_refused_naming_the_field(field: str, value: object) -> None:
    sim = Simulator(QUIET)
    with pytest.raises(RpcError) as refused:
        launch(Rpc(sim), **{field: value})
    assert refused.value.code == -32602
    assert field in refused.value.message
    assert sim.launchpad.launched == {}


def test_launches_come_on_their_seeded_schedule_with_varied_properties() -> None:
    config = SimulatorConfig(seed=3, launches_per_hour=900.0)  # one per ten slots
    first, second = Simulator(config), Simulator(config)
    first.advance_slots(600)
    second.advance_slots(600)
    launched = list(first.launchpad.launched.values())
    assert [x.signature for x in launched] == [
        x.signature for x in second.launchpad.launched.values()
    ]
    assert 30 <= len(launched) <= 100
    specs = [x.spec for x in launched]
    assert any(s.freezable for s in specs)
    assert not all(s.freezable for s in specs)
    assert any(s.lp_burned_pct < 100 for s in specs)
    assert any(not s.mint_renounced for s in specs)
    assert any(s.rug_after_slots is not None for s in specs)
    assert any(s.quote_mint != SOL.mint for s in specs)
    rpc = Rpc(first)
    found = creations(rpc)
    assert {entry["signature"] for entry in found} == {x.signature for x in launched[:-1]} | (
        {launched[-1].signature} if launched[-1].slot < first.chain.slot else set()
    )


def test_a_snapshot_of_a_chain_with_launches_restores_it() -> None:
    config = SimulatorConfig(seed=4, launches_per_hour=900.0)
    original = Simulator(config)
    original.advance_slots(200)
    Rpc(original).call("simulator_launchPool", [{"rugAfterSlots": 5}])
    copy = pickle.loads(pickle.dumps(original))  # a journal snapshot is this pickle
    assert list(copy.launchpad.launched) == list(original.launchpad.launched)
    assert_same_chain(original, copy)


def test_no_schedule_by_default_so_other_streams_are_untouched() -> None:
    sim = Simulator(SimulatorConfig(seed=3))
    sim.advance_slots(300)
    assert sim.launchpad.launched == {}


def test_a_launch_asked_for_survives_a_restart(tmp_path: Path) -> None:
    config = msgspec.structs.replace(QUIET, launches_per_hour=900.0)
    path = tmp_path / "chain.journal"
    original = open_simulator(config, path)
    original.advance_slots(15)
    Rpc(original).call("simulator_launchPool", [{"quoteReserve": "80", "openInSlots": 1}])
    original.advance_slots(25)
    reference = Simulator(config)
    reference.advance_slots(15)
    Rpc(reference).call("simulator_launchPool", [{"quoteReserve": "80", "openInSlots": 1}])
    reference.advance_slots(25)
    restored = restart(original, tmp_path / "chain.journal", config)
    assert list(restored.launchpad.launched) == list(reference.launchpad.launched)
    assert_same_chain(reference, restored)
    close(restored)

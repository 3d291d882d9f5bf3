"""The hostile RPC node (simulator.hostile), each mode over the real JSON-RPC server and
the engine's own clients: what the client is told, and what the chain really did."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

import pytest
import pytest_asyncio

from commands.chain_types import SwapLeg, SwapRequest
from domain.routing import VenueUnavailable
from simulator.config import SimulatorConfig
from simulator.hostile import HostileConfig, HostileError
from simulator.service import RunningService, main, start
from simulator.universe import SOL, USDC
from tests.unit.simulator.http_client import JsonClient
from workers.solana.connect import SolanaClients, over
from workers.solana.http import HttpClient
from workers.solana.wallet import load_keypair

QUIET = SimulatorConfig(seed=5, skip_rate=0.0, fork_prob=0.0, p_land=1.0, market_activity=False)


@pytest_asyncio.fixture
async def service() -> AsyncIterator[RunningService]:
    running = await start(QUIET, "127.0.0.1", 0)
    async with running:
        yield running


@pytest_asyncio.fixture
async def control(service: RunningService) -> AsyncIterator[JsonClient]:
    connection = await JsonClient.connect(service.port)
    yield connection
    await connection.close()


@pytest_asyncio.fixture
async def chain(service: RunningService) -> AsyncIterator[SolanaClients]:
    url = f"http://127.0.0.1:{service.port}"
    # A short client timeout, so that a held answer times out quickly.
    clients = over(HttpClient(url, timeout_s=0.3), HttpClient(url), load_keypair("", QUIET.seed))
    yield clients
    await clients.close()


async def _rpc(control: JsonClient, method: str, params: list[object]) -> object:
    status, answer = await control.call(
        "POST", "/", {"jsonrpc": "2.0", "id": 1, "method": method, "params": params}
    )
    assert status == 200, answer
    assert "error" not in answer, answer
    return answer["result"]


async def _hostile(control: JsonClient, modes: str) -> None:
    await _rpc(control, "simulator_hostile", [{"modes": modes}])


async def _fates(control: JsonClient, signatures: list[str]) -> list[str]:
    fates = await _rpc(control, "simulator_signatureFates", [signatures])
    assert isinstance(fates, list)
    return [str(fate) for fate in fates]


async def _advance(control: JsonClient, slots: int) -> None:
    await _rpc(control, "simulator_advanceSlots", [{"slots": slots}])


async def _signed(chain: SolanaClients, amount: int = 10**8) -> tuple[str, str]:
    """(signature, wire transaction) of a small SOL->USDC swap, not sent."""
    blockhash = await chain.rpc.latest_blockhash()
    pool = (await chain.quotes.ladder(SOL.mint, USDC.mint, [amount])).pools[0]
    leg = SwapLeg(pool=pool.amm_key, venue=pool.venue, amount_in=amount, min_amount_out=0)
    swap = SwapRequest(
        input_mint=SOL.mint, output_mint=USDC.mint, legs=(leg,), compute_unit_price=0, memo="test"
    )
    signed = await chain.wallet.build(swap, blockhash)
    return signed.signature, signed.transaction


async def _landed(control: JsonClient, signature: str) -> None:
    for _ in range(20):
        if (await _fates(control, [signature])) == ["executed"]:
            return
        await _advance(control, 1)
    raise AssertionError(f"{signature} never landed")


async def test_a_dropped_send_is_taken_and_its_answer_never_comes(
    control: JsonClient, chain: SolanaClients
) -> None:
    signature, wire = await _signed(chain)
    await _hostile(control, "drop:1,hold:1")
    started = time.monotonic()
    with pytest.raises(VenueUnavailable, match="Timeout"):
        await chain.rpc.send_transaction(wire)
    assert time.monotonic() - started < 1  # the client's own timeout, not the hold
    assert await _fates(control, [signature]) == ["waiting"]  # the chain has it
    await _landed(control, signature)


async def test_a_dropped_send_cut_at_once_is_no_answer_either(
    control: JsonClient, chain: SolanaClients
) -> None:
    signature, wire = await _signed(chain)
    await _hostile(control, "drop:1,hold:0")
    with pytest.raises(VenueUnavailable):
        await chain.rpc.send_transaction(wire)
    assert await _fates(control, [signature]) == ["waiting"]
    await _hostile(control, "")
    assert await chain.rpc.send_transaction(wire) == signature  # the node works again


@pytest.mark.parametrize(("mode", "status"), [("rate_limit", 429), ("unavailable", 503)])
async def test_refused_sends_some_taken_before_the_refusal(
    control: JsonClient, chain: SolanaClients, mode: str, status: int
) -> None:
    signed = [await _signed(chain, 10**8 + n) for n in range(16)]
    await _hostile(control, f"{mode}:1,seed:3")
    for _, wire in signed:
        with pytest.raises(VenueUnavailable, match=f"HTTP {status}"):
            await chain.rpc.send_transaction(wire)
    fates = await _fates(control, [signature for signature, _ in signed])
    # Refused all, yet some of them were taken first: a refusal proves nothing.
    assert set(fates) == {"unknown", "waiting"}, fates
    counts = await _rpc(control, "simulator_hostile", [])
    assert isinstance(counts, dict)
    assert counts["counts"][f"{status}_after_send"] == fates.count("waiting")


@pytest.mark.parametrize(("mode", "status"), [("rate_limit", 429), ("unavailable", 503)])
async def test_refused_status_reads(
    control: JsonClient, chain: SolanaClients, mode: str, status: int
) -> None:
    signature, wire = await _signed(chain)
    assert await chain.rpc.send_transaction(wire) == signature
    await _hostile(control, f"{mode}:0.5,seed:1")
    outcomes = []
    for _ in range(20):
        try:
            await chain.rpc.signature_statuses([signature])
            outcomes.append("answered")
        except VenueUnavailable as error:
            outcomes.append(str(error))
        assert (await chain.rpc.block_height()) > 0  # other reads are not refused
    assert set(outcomes) == {"answered", f"RPC node answered HTTP {status}"}


async def test_lag_shows_a_landed_signature_as_null_for_a_few_slots(
    control: JsonClient, chain: SolanaClients
) -> None:
    signature, wire = await _signed(chain)
    await _hostile(control, "lag:3")
    assert await chain.rpc.send_transaction(wire) == signature
    await _landed(control, signature)
    hidden = 0
    while (await chain.rpc.signature_statuses([signature]))[0] is None:
        assert await chain.rpc.landed_transactions([signature]) == [None]
        hidden += 1
        assert hidden <= 3
        await _advance(control, 1)
    # Landed in slot L, shown from slot L + 3: hidden for the 3 slots (L..L+2), of which
    # the chain may already have passed one when the fate was read.
    assert hidden >= 2
    modes = await _rpc(control, "simulator_hostile", [])
    assert isinstance(modes, dict)
    assert modes["counts"]["lag"] == 2 * hidden  # each status read and getTransaction
    landed = (await chain.rpc.landed_transactions([signature]))[0]
    assert landed is not None
    assert landed.failure is None


async def test_stale_status_reads_answer_as_of_slots_ago(
    control: JsonClient, chain: SolanaClients
) -> None:
    signature, wire = await _signed(chain)
    await _hostile(control, "stale:4,stale_share:1")
    assert await chain.rpc.send_transaction(wire) == signature
    await _landed(control, signature)
    slot = await _rpc(control, "getSlot", [])
    assert isinstance(slot, int)
    _, answer = await control.call(
        "POST",
        "/",
        {"jsonrpc": "2.0", "id": 1, "method": "getSignatureStatuses", "params": [[signature]]},
    )
    assert answer["result"]["context"]["slot"] == slot - 4
    assert answer["result"]["value"] == [None]  # landed in the last 4 slots
    assert await chain.rpc.block_height() > 0
    await _advance(control, 4)
    (seen,) = await chain.rpc.signature_statuses([signature])
    assert seen is not None
    assert not seen.failed
    # Half the reads on the node behind: the same signature shows, then not.
    await _hostile(control, "stale:4,stale_share:0.5,seed:2")
    await _advance(control, 0)
    shown = set()
    for _ in range(20):
        _status, answer = await control.call(
            "POST",
            "/",
            {"jsonrpc": "2.0", "id": 1, "method": "getSignatureStatuses", "params": [[signature]]},
        )
        shown.add(answer["result"]["context"]["slot"])
    assert len(shown) >= 2


async def test_slow_answers_come_after_the_clients_timeout(
    control: JsonClient, chain: SolanaClients, service: RunningService
) -> None:
    signature, wire = await _signed(chain)
    await _hostile(control, "slow:1,hold:0.6")
    with pytest.raises(VenueUnavailable, match="Timeout"):
        await chain.rpc.block_height()
    with pytest.raises(VenueUnavailable, match="Timeout"):
        await chain.rpc.send_transaction(wire)
    assert await _fates(control, [signature]) == ["waiting"]  # carried out, answer late
    patient = HttpClient(f"http://127.0.0.1:{service.port}", timeout_s=5)
    try:
        started = time.monotonic()
        status, _ = await patient.request(
            "POST", "/", b'{"jsonrpc":"2.0","id":1,"method":"getSlot"}'
        )
        assert status == 200
        assert time.monotonic() - started >= 0.6
    finally:
        await patient.close()


async def test_control_methods_are_never_touched(control: JsonClient) -> None:
    await _hostile(control, "rate_limit:1,unavailable:1,slow:1,drop:1,hold:5")
    started = time.monotonic()
    assert await _fates(control, ["1" * 64]) == ["unknown"]
    assert await _rpc(control, "simulator_hostile", []) == {
        "modes": "drop:1.0,rate_limit:1.0,unavailable:1.0,slow:1.0,hold:5.0",
        "counts": {},
    }
    assert time.monotonic() - started < 1


async def test_a_bad_spec_is_refused_naming_the_mode(control: JsonClient) -> None:
    await _hostile(control, "lag:2")
    for spec, named in [
        ("rate_limit:2", "rate_limit"),
        ("flaky:0.1", "flaky"),
        ("lag", "lag"),
        ("stale:x", "stale"),
    ]:
        _status, answer = await control.call(
            "POST",
            "/",
            {"jsonrpc": "2.0", "id": 1, "method": "simulator_hostile", "params": [{"modes": spec}]},
        )
        assert answer["error"]["code"] == -32602
        assert named in answer["error"]["message"], answer
    assert (await _rpc(control, "simulator_hostile", []))["modes"] == "lag:2"  # type: ignore[index]


def test_specs_parse_and_print_back() -> None:
    config = HostileConfig.parse(
        " drop:0.2, rate_limit:0.1,lag:3 ,stale:2,slow:0.05,hold:1.5,seed:7"
    )
    assert config == HostileConfig(
        drop=0.2, rate_limit=0.1, lag=3, stale=2, slow=0.05, hold=1.5, seed=7
    )
    assert HostileConfig.parse(config.spec()) == config
    assert HostileConfig.parse("").faithful
    with pytest.raises(HostileError) as refused:
        HostileConfig.parse("drop:-0.1")
    assert refused.value.field == "drop"


def test_the_command_line_refuses_a_bad_spec(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["--hostile", "unavailable:1.5", "--port", "0"])
    assert exited.value.code == 2
    assert "--hostile unavailable" in capsys.readouterr().err


async def test_two_requests_held_do_not_hold_a_third(
    control: JsonClient, service: RunningService
) -> None:
    """A held answer waits on its own: the node answers others meanwhile."""
    await _hostile(control, "slow:1,hold:1")
    url = f"http://127.0.0.1:{service.port}"
    clients = [HttpClient(url, timeout_s=3) for _ in range(3)]
    body = b'{"jsonrpc":"2.0","id":1,"method":"getSlot"}'
    try:
        started = time.monotonic()
        answers = await asyncio.gather(*(client.request("POST", "/", body) for client in clients))
        assert [status for status, _ in answers] == [200, 200, 200]
        assert time.monotonic() - started < 2
    finally:
        for client in clients:
            await client.close()

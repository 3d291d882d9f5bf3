from fractions import Fraction

import pytest

from simulator.core import Simulator
from simulator.errors import InvalidRequest
from simulator.quote_api import QuoteApi
from simulator.requests import LadderRequest, Leg, LegsRequest
from simulator.universe import MEME, SOL, USDC
from tests.support.solana_tx import CERTAIN, pool_addresses

AMOUNTS: list[str | int] = ["1000000", "1000000000", "100000000000", "10000000000000"]


def test_ladder_gives_every_pool_every_amount() -> None:
    sim = Simulator(CERTAIN)
    response = QuoteApi(sim).ladder(
        LadderRequest(input_mint="SOL", output_mint=USDC.mint, amounts=AMOUNTS)
    )
    assert (response.input_mint, response.output_mint) == (SOL.mint, USDC.mint)
    assert response.context_slot == sim.chain.slot
    assert [pool.amm_key for pool in response.pools] == pool_addresses(sim, "SOL/USDC")
    for pool in response.pools:
        assert [point.in_amount for point in pool.quotes] == AMOUNTS
        outs = [int(point.out_amount) for point in pool.quotes]
        assert outs == sorted(outs)
        impacts = [Fraction(point.price_impact_pct) for point in pool.quotes]
        # Past dust amounts (where floor rounding dominates) impact grows with size.
        assert impacts[1:] == sorted(impacts[1:])
        assert all(0 <= impact < 1 for impact in impacts)
        assert pool.fee_mint == SOL.mint


def test_ladder_venues_differ_by_about_the_fee_band() -> None:
    sim = Simulator(CERTAIN)
    response = QuoteApi(sim).ladder(
        LadderRequest(input_mint="SOL", output_mint="USDC", amounts=["1000000000"])
    )
    outs = [int(pool.quotes[0].out_amount) for pool in response.pools]
    # 1 SOL at 150 USDC: every venue within 0.5 % of 150 USDC, net of its fee.
    assert all(149_000_000 < out < 150_000_000 for out in outs)


def test_reverse_direction_and_threshold() -> None:
    sim = Simulator(CERTAIN)
    request = LadderRequest(
        input_mint="SOL", output_mint="MEME", amounts=["1000000000"], slippage_bps=100
    )
    response = QuoteApi(sim).ladder(request)
    assert response.output_mint == MEME.mint
    for pool in response.pools:
        point = pool.quotes[0]
        # 1 SOL buys ~250k MEME less the 1 % fee; threshold is 1 % below the out.
        assert 240_000 * 10**6 < int(point.out_amount) < 250_000 * 10**6
        assert int(point.other_amount_threshold) == int(point.out_amount) * 9_900 // 10_000


def test_amount_beyond_dlmm_bins_is_reported_per_point() -> None:
    sim = Simulator(CERTAIN)
    dlmm = pool_addresses(sim, "SOL/USDC")[2]
    request = LadderRequest(
        input_mint="SOL", output_mint="USDC", amounts=["1000000000", str(10**17)], pools=[dlmm]
    )
    (pool,) = QuoteApi(sim).ladder(request).pools
    assert pool.quotes[0].error is None
    assert (pool.quotes[1].error, pool.quotes[1].out_amount) == ("PairInsufficientLiquidity", "0")


def test_legs_quote_is_jupiter_shaped() -> None:
    sim = Simulator(CERTAIN)
    amm, cpmm, dlmm = pool_addresses(sim, "SOL/USDC")
    legs = [
        Leg(pool=amm, amount_in="694000000000"),
        Leg(pool=dlmm, amount_in="306000000000"),
        Leg(pool=cpmm, amount_in="1000000000"),
    ]
    quote = QuoteApi(sim).legs(
        LegsRequest(input_mint="SOL", output_mint="USDC", legs=legs, slippage_bps=50)
    )
    assert quote.in_amount == "1001000000000"
    assert sum(step.percent for step in quote.route_plan) == 100
    assert sum(step.bps for step in quote.route_plan) == 10_000
    # floor shares, the remainder to the largest leg
    assert [step.bps for step in quote.route_plan] == [6935, 3056, 9]
    assert [step.percent for step in quote.route_plan] == [70, 30, 0]
    outs = sum(int(step.swap_info.out_amount) for step in quote.route_plan)
    assert int(quote.out_amount) == outs
    assert int(quote.other_amount_threshold) == outs * 9_950 // 10_000
    assert quote.swap_mode == "ExactIn"


def test_leg_beyond_liquidity_is_unprocessable() -> None:
    sim = Simulator(CERTAIN)
    dlmm = pool_addresses(sim, "SOL/USDC")[2]
    with pytest.raises(InvalidRequest) as caught:
        QuoteApi(sim).legs(
            LegsRequest(
                input_mint="SOL", output_mint="USDC", legs=[Leg(pool=dlmm, amount_in=str(10**17))]
            )
        )
    assert (caught.value.field, caught.value.status) == ("legs[0].amountIn", 422)


@pytest.mark.parametrize(
    ("request_", "field"),
    [
        (LadderRequest(input_mint="XYZ", output_mint="USDC", amounts=["1"]), "inputMint"),
        (LadderRequest(input_mint="SOL", output_mint="USDC", amounts=[]), "amounts"),
        (LadderRequest(input_mint="SOL", output_mint="USDC", amounts=["1.5"]), "amounts[0]"),
        (LadderRequest(input_mint="SOL", output_mint="USDC", amounts=[0]), "amounts[0]"),
        (
            LadderRequest(input_mint="SOL", output_mint="USDC", amounts=["1"], slippage_bps=-1),
            "slippageBps",
        ),
        (
            LadderRequest(input_mint="SOL", output_mint="USDC", amounts=["1"], pools=["x"]),
            "pools[0]",
        ),
    ],
)
def test_bad_ladders_name_the_field(request_: LadderRequest, field: str) -> None:
    with pytest.raises(InvalidRequest) as caught:
        QuoteApi(Simulator(CERTAIN)).ladder(request_)
    assert caught.value.field == field

"""Sniper orders at the API, against real PostgreSQL: a valid one is armed with its
terms; every bad field is a 400 that names it and appends nothing; a cancel of an
armed sniper ends it at once."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from tests.conftest import count_events

Client = AsyncTestClient[Litestar]
CREATOR = "7xKXtg2CW87d97TXJSDpbD5jBkheTqA83TZRuJosgAsU"


def sniper(**fields: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "type": "sniper",
        "tokenIn": "SOL",
        "amountIn": "2",
        "expiresAt": (datetime.now(UTC) + timedelta(hours=1)).isoformat(),
    }
    return body | fields


async def test_a_sniper_is_armed_with_its_terms(client: Client, database_url: str) -> None:
    body = sniper(
        target={"creator": CREATOR},
        filters={"minLiquidity": 50.5, "maxLiquidity": "5000", "minLpBurnedPct": 90},
        maxPrice="0.000004",
        delaySlots=2,
        priorityFee=200_000,
    )
    reply = await client.post("/api/orders/execute", json=body)
    assert (reply.status_code, reply.json()["status"]) == (202, "armed"), reply.text
    events = (await client.get(f"/api/orders/{reply.json()['orderId']}/events")).json()
    assert [e["type"] for e in events] == ["OrderSubmitted", "OrderArmed"]
    terms = events[0]["data"]["sniper"]
    assert terms["targetCreator"] == CREATOR
    assert terms["minLiquidity"] == 50_500_000_000, "a JSON number read exactly"
    assert (terms["maxPrice"], terms["delaySlots"], terms["priorityFee"]) == (
        "0.000004",
        2,
        200_000,
    )
    cancelled = await client.post(f"/api/orders/{reply.json()['orderId']}/cancel")
    assert (cancelled.status_code, cancelled.json()["status"]) == (200, "cancelled")


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (sniper(tokenIn="DOGE"), "tokenIn"),
        (sniper(tokenIn="MEME"), "tokenIn"),
        (sniper(tokenOut="USDC"), "tokenOut"),
        (sniper(target={"creator": "0OIl-not-base58"}), "target.creator"),
        (sniper(target={"mint": 12}), "target.mint"),
        (sniper(filters={"minLpBurnedPct": 120}), "filters.minLpBurnedPct"),
        (sniper(filters={"maxTopHolderPct": 50.5}), "filters.maxTopHolderPct"),
        (sniper(filters={"minLiquidity": "-1"}), "filters.minLiquidity"),
        (sniper(filters={"minLiquidity": "0.0000000001"}), "filters.minLiquidity"),
        (sniper(filters={"freezable": False}), "filters.freezable"),
        (sniper(maxPrice="free"), "maxPrice"),
        (sniper(delaySlots=500), "delaySlots"),
        (sniper(slippageBps=6000), "slippageBps"),
        (sniper(exit={}), "exit"),
        (sniper(exit="40%"), "exit"),
        (sniper(exit={"takeProfitPct": 0}), "exit.takeProfitPct"),
        (sniper(exit={"takeProfitPct": 40.5}), "exit.takeProfitPct"),
        (sniper(exit={"stopLossPct": 100}), "exit.stopLossPct"),
        (sniper(exit={"maxHoldSlots": 0}), "exit.maxHoldSlots"),
        (sniper(exit={"maxHoldSlots": 10**7}), "exit.maxHoldSlots"),
        (sniper(exit={"takeProfitPct": 40, "trailing": 5}), "exit.trailing"),
        ({k: v for k, v in sniper().items() if k != "expiresAt"}, "expiresAt"),
        ({"type": "market", "tokenIn": "SOL", "tokenOut": "USDC", "amountIn": "1",
          "delaySlots": 1}, "delaySlots"),
    ],
)  # fmt: skip
async def test_each_bad_sniper_field_is_a_400_naming_it(
    client: Client, database_url: str, body: dict[str, Any], field: str
) -> None:
    before = count_events(database_url)
    reply = await client.post("/api/orders/execute", json=body)
    assert reply.status_code == 400, reply.text
    assert field in reply.text, reply.text
    assert count_events(database_url) == before


async def test_one_idempotency_key_with_other_sniper_terms_is_a_422(
    client: Client, database_url: str
) -> None:
    # The fingerprint once left the sniper terms out: a retry of the key with another
    # target or exit was answered with the first order, as if it were the same body.
    expires = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
    body = sniper(expiresAt=expires, target={"creator": CREATOR}, exit={"takeProfitPct": 40})
    headers = {"Idempotency-Key": "sniper-terms-1"}
    first = await client.post("/api/orders/execute", json=body, headers=headers)
    assert first.status_code == 202, first.text
    again = await client.post("/api/orders/execute", json=body, headers=headers)
    assert (again.status_code, again.json()["orderId"]) == (200, first.json()["orderId"])
    before = count_events(database_url)
    for changed in ({"exit": {"takeProfitPct": 80}}, {"target": None}, {"delaySlots": 3}):
        other = {key: value for key, value in (body | changed).items() if value is not None}
        reply = await client.post("/api/orders/execute", json=other, headers=headers)
        assert reply.status_code == 422, (changed, reply.text)
    assert count_events(database_url) == before

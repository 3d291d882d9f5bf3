"""A hostile client at the HTTP edge: every case a 4xx naming the field, nothing appended."""

from __future__ import annotations

from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from tests.conftest import count_events

Client = AsyncTestClient[Litestar]
JSON = {"Content-Type": "application/json"}
ORDER = b'{"type":"market","tokenIn":"SOL","tokenOut":"USDC","amountIn":"1.5"}'


def order_with(field: bytes, value: bytes) -> bytes:
    """ORDER with `field`'s value replaced by the raw JSON `value`."""
    return b'{"type":"market","tokenIn":"SOL","tokenOut":"USDC","amountIn":"1.5",' + (
        b'"' + field + b'":' + value + b"}"
    ).replace(b'"amountIn":"1.5","amountIn":', b'"amountIn":')


REFUSED: list[tuple[str, bytes, dict[str, str], int, str]] = [
    ("text/plain", ORDER, {"Content-Type": "text/plain"}, 415, "Content-Type"),
    (
        "form",
        b"type=market",
        {"Content-Type": "application/x-www-form-urlencoded"},
        415,
        "Content-Type",
    ),
    ("multipart", ORDER, {"Content-Type": "multipart/form-data; boundary=x"}, 415, "Content-Type"),
    ("no content type", ORDER, {}, 415, "Content-Type"),
    (
        "latin-1 JSON",
        ORDER,
        {"Content-Type": "application/json; charset=latin-1"},
        415,
        "Content-Type",
    ),
    (
        "amountIn 1,000 arrays deep",
        ORDER.replace(b'"1.5"', b"[" * 1000 + b"]" * 1000),
        JSON,
        400,
        "amountIn",
    ),
    ("invalid UTF-8", ORDER.replace(b'"SOL"', b'"S\xffOL"'), JSON, 400, "tokenIn"),
    ("escaped NUL", ORDER.replace(b'"SOL"', b'"SOL\\u0000"'), JSON, 400, "tokenIn"),
    ("raw control character", ORDER.replace(b'"SOL"', b'"SO\x07L"'), JSON, 400, "tokenIn"),
    ("lone surrogate", ORDER.replace(b'"SOL"', b'"SOL\\ud800"'), JSON, 400, "tokenIn"),
    (
        "duplicate key",
        ORDER.replace(b'"tokenOut"', b'"tokenIn":"USDC","tokenOut"'),
        JSON,
        400,
        "tokenIn",
    ),
    (
        "escaped duplicate key",
        ORDER.replace(b'"tokenOut"', b'"\\u0074ype":"limit","tokenOut"'),
        JSON,
        400,
        "type",
    ),
    (
        "Kelvin sign in type",
        ORDER.replace(b'"market"', '"mar\u212aet"'.encode()),
        JSON,
        400,
        "type",
    ),
    ("long s in a symbol", ORDER.replace(b'"SOL"', '"\u017fOL"'.encode()), JSON, 400, "tokenIn"),
    ("fullwidth symbol", ORDER.replace(b'"USDC"', '"\uff35SDC"'.encode()), JSON, 400, "tokenOut"),
]


@pytest.mark.parametrize(
    ("body", "headers", "status", "field"),
    [case[1:] for case in REFUSED],
    ids=[case[0] for case in REFUSED],
)
async def test_hostile_input_is_a_4xx_naming_the_field_and_appends_nothing(
    client: Client,
    database_url: str,
    body: bytes,
    headers: dict[str, str],
    status: int,
    field: str,
) -> None:
    before = count_events(database_url)
    response = await client.post("/api/orders/execute", content=body, headers=headers)
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["field"] == field
    assert response.json()["detail"].startswith(field)
    assert count_events(database_url) == before


@pytest.mark.parametrize(
    "content_type", ["application/json", "application/json; charset=utf-8", "Application/JSON"]
)
async def test_json_is_taken_with_or_without_its_charset(client: Client, content_type: str) -> None:
    response = await client.post(
        "/api/orders/execute", content=ORDER, headers={"Content-Type": content_type}
    )
    assert response.status_code == 202, response.text


async def test_a_wrong_method_is_405_with_allow(client: Client) -> None:
    response = await client.delete("/api/orders/execute")
    assert response.status_code == 405
    assert "POST" in response.headers["allow"]
    assert response.headers["content-type"].startswith("application/problem+json")


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"tokenIn": "\u017fOL", "tokenOut": "USDC", "amountIn": "1"}, "tokenIn"),
        ({"tokenIn": "SOL", "tokenOut": "USDC", "amountIn": "1\u0000"}, "amountIn"),
    ],
)
async def test_the_quote_refuses_look_alikes(
    client: Client, params: dict[str, Any], field: str
) -> None:
    response = await client.get("/api/quote", params=params)
    assert response.status_code == 400, response.text
    assert response.json()["field"] == field

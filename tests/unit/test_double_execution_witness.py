"""The double-execution witness can fail: crafted orders that broke never-twice are
named, and orders that kept it are not."""

from __future__ import annotations

import pytest

from tests.support.engine_checks import judge_signatures

ORDER = "order-1"

# (signatures oldest first with their fates, final outcome: missing = under way)
BROKEN: list[tuple[str, list[tuple[str, str]], dict[str, str | None]]] = [
    ("landed twice", [("a", "executed"), ("b", "executed")], {ORDER: "b"}),
    (
        "confirmed with b, earlier a still pending",
        [("a", "waiting"), ("b", "executed")],
        {ORDER: "b"},
    ),
    ("confirmed with b, earlier a landed", [("a", "executed"), ("b", "expired")], {ORDER: "b"}),
    ("failed, its only attempt landed", [("a", "executed")], {ORDER: None}),
    ("failed, last attempt still pending", [("a", "expired"), ("b", "waiting")], {ORDER: None}),
    ("failed, earlier attempt still pending", [("a", "waiting"), ("b", "failed")], {ORDER: None}),
    ("confirmed with what never landed", [("a", "expired")], {ORDER: "a"}),
    ("under way, retried while a may land", [("a", "waiting"), ("b", "unknown")], {}),
    ("under way, retried after a landed", [("a", "executed"), ("b", "waiting")], {}),
]

KEPT: list[tuple[str, list[tuple[str, str]], dict[str, str | None]]] = [
    ("confirmed after an expired attempt", [("a", "expired"), ("b", "executed")], {ORDER: "b"}),
    ("confirmed after a failed attempt", [("a", "failed"), ("b", "executed")], {ORDER: "b"}),
    ("failed after every attempt failed", [("a", "failed"), ("b", "expired")], {ORDER: None}),
    ("under way, its one attempt pending", [("a", "waiting")], {}),
    ("under way, landed, not confirmed yet", [("a", "expired"), ("b", "executed")], {}),
]


def _judge(attempts: list[tuple[str, str]], outcome: dict[str, str | None]) -> list[str]:
    signed = {ORDER: [signature for signature, _ in attempts]}
    return judge_signatures(signed, outcome, dict(attempts))


@pytest.mark.parametrize(("case", "attempts", "outcome"), BROKEN, ids=[c[0] for c in BROKEN])
def test_the_witness_names_an_order_that_broke_never_twice(
    case: str, attempts: list[tuple[str, str]], outcome: dict[str, str | None]
) -> None:
    wrong = _judge(attempts, outcome)
    assert len(wrong) == 1, case
    assert wrong[0].startswith(ORDER)


@pytest.mark.parametrize(("case", "attempts", "outcome"), KEPT, ids=[c[0] for c in KEPT])
def test_the_witness_passes_an_order_that_kept_it(
    case: str, attempts: list[tuple[str, str]], outcome: dict[str, str | None]
) -> None:
    assert _judge(attempts, outcome) == [], case

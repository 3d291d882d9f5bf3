"""A sniper's exit (API.md, "Sniper orders", `exit`): its terms, checked at submission,
the rule that fires on a sale quote, and the id of the child order that sells.

The position's value is a sale quote of the whole position in `tokenIn` (atomic); its
cost is the buy's `amountIn`. `takeProfitPct` fires at value >= cost * (1 + tp/100),
`stopLossPct` at value <= cost * (1 - sl/100), `maxHoldSlots` at slot >= the buy's
confirmation slot + maxHoldSlots; checked in that order, so one quote gives one reason.
"""

from __future__ import annotations

import uuid
from enum import StrEnum

import msgspec

from domain.errors import InvalidField

MAX_TAKE_PROFIT_PCT = 100_000  # a 1,000x: beyond it the rule would never fire
MAX_HOLD_SLOTS = 1_000_000  # about 4.6 days of 400 ms slots
# Exit orders that may fail before the position is given up (the order then fails).
MAX_EXIT_ORDERS = 3

_EXIT_FIELDS = ("takeProfitPct", "stopLossPct", "maxHoldSlots")
# Child order ids derive from the parent's and the exit's arm: every writer of the
# same exit names the same child, so a crash or a second watcher cannot make two.
_EXIT_ORDER_NAMESPACE = uuid.UUID("0b6f3c52-94e1-4d7e-8a0f-5c2d9e7b1a43")


class ExitReason(StrEnum):
    TAKE_PROFIT = "takeProfit"
    STOP_LOSS = "stopLoss"
    MAX_HOLD = "maxHold"
    CANCEL = "cancel"  # the client cancelled a held position: sell it now


class ExitTerms(msgspec.Struct, frozen=True, kw_only=True, rename="camel", omit_defaults=True):
    """When a held position is sold; at least one is set."""

    take_profit_pct: int | None = None
    stop_loss_pct: int | None = None
    max_hold_slots: int | None = None


def parse_exit_terms(raw: dict[str, object]) -> ExitTerms:
    """The exit terms of `raw` (the client's `exit` object), or an `InvalidField`
    naming the field at fault."""
    unknown = sorted(set(raw) - set(_EXIT_FIELDS))
    if unknown:
        raise InvalidField(
            f"exit.{unknown[0]}", f"unknown field; exit takes {', '.join(_EXIT_FIELDS)}"
        )
    terms = ExitTerms(
        take_profit_pct=_integer(raw, "takeProfitPct", 1, MAX_TAKE_PROFIT_PCT),
        stop_loss_pct=_integer(raw, "stopLossPct", 1, 99),
        max_hold_slots=_integer(raw, "maxHoldSlots", 1, MAX_HOLD_SLOTS),
    )
    if terms == ExitTerms():
        raise InvalidField("exit", f"needs at least one of {', '.join(_EXIT_FIELDS)}")
    return terms


def exit_reason(
    terms: ExitTerms, cost: int, value: int, slot: int, entry_slot: int
) -> ExitReason | None:
    """The rule a sale quote of `value` (atomic `tokenIn`) at `slot` fires, if any."""
    tp, sl, hold = terms.take_profit_pct, terms.stop_loss_pct, terms.max_hold_slots
    if tp is not None and value * 100 >= cost * (100 + tp):
        return ExitReason.TAKE_PROFIT
    if sl is not None and value * 100 <= cost * (100 - sl):
        return ExitReason.STOP_LOSS
    if hold is not None and slot >= entry_slot + hold:
        return ExitReason.MAX_HOLD
    return None


def exit_order_id(parent_order_id: str, generation: int) -> str:
    """The id of the child order that sells the position for exit arm `generation`."""
    return str(uuid.uuid5(_EXIT_ORDER_NAMESPACE, f"exit:{parent_order_id}:{generation}"))


def _integer(raw: dict[str, object], name: str, low: int, high: int) -> int | None:
    value = raw.get(name)
    if value is None:
        return None
    if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
        raise InvalidField(f"exit.{name}", f"must be an integer between {low} and {high}")
    return value

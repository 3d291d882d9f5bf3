"""A sniper order's terms (API.md, "Sniper orders") and how a new pool is judged.

The terms are checked and converted exactly at submission: liquidity bounds become
atomic units of `tokenIn`, `maxPrice` stays the client's decimal (the launched token's
decimals are known only once a pool matches, `max_price_minimum` then converts it).
`judge` is the filters a sniper bot applies to a creation, each with its verdict, so
the order can record which filter refused a pool.
"""

from __future__ import annotations

import re
from decimal import ROUND_CEILING, Decimal

import msgspec

from domain.amounts import parse_amount, parse_decimal
from domain.errors import InvalidField
from domain.exit_terms import ExitTerms, parse_exit_terms
from domain.launches import PoolLaunched
from domain.tokens import Token

MAX_DELAY_SLOTS = 150
MAX_PRIORITY_FEE = 10**9  # micro-lamports per compute unit: far above any real fee
_BASE58 = re.compile(r"[1-9A-HJ-NP-Za-km-z]{32,44}")


class SniperTerms(msgspec.Struct, frozen=True, kw_only=True, rename="camel", omit_defaults=True):
    """What a sniper waits for and how it buys; amounts in atomic units of `tokenIn`."""

    target_mint: str | None = None
    target_creator: str | None = None
    min_liquidity: int | None = None
    max_liquidity: int | None = None
    require_mint_renounced: bool = False
    require_not_freezable: bool = True
    min_lp_burned_pct: int | None = None
    max_top_holder_pct: int | None = None
    max_price: str | None = None  # tokenIn per launched token, as the client wrote it
    delay_slots: int = 0
    priority_fee: int | None = None  # None: the engine's PRIORITY_FEE
    exit: ExitTerms | None = None  # None: the order is final once its buy confirms


class FilterVerdict(msgspec.Struct, frozen=True, kw_only=True, rename="camel"):
    """One filter's verdict on a pool: what it read and what it asked for."""

    filter: str
    passed: bool
    seen: str
    wanted: str


class SniperFields(msgspec.Struct, frozen=True, kw_only=True):
    """The sniper fields as the client sent them (None: absent)."""

    target: dict[str, object] | None = None
    filters: dict[str, object] | None = None
    max_price: str | int | Decimal | None = None
    delay_slots: int | None = None
    priority_fee: int | None = None
    exit: dict[str, object] | None = None

    def given(self) -> list[str]:
        names = ("target", "filters", "maxPrice", "delaySlots", "priorityFee", "exit")
        values = (
            self.target,
            self.filters,
            self.max_price,
            self.delay_slots,
            self.priority_fee,
            self.exit,
        )
        return [name for name, value in zip(names, values, strict=True) if value is not None]


_FILTERS = (
    "minLiquidity",
    "maxLiquidity",
    "requireMintRenounced",
    "requireNotFreezable",
    "minLpBurnedPct",
    "maxTopHolderPct",
)


def parse_sniper_terms(fields: SniperFields, token_in: Token) -> SniperTerms:
    """The terms of a sniper order, or an `InvalidField` naming what is wrong."""
    mint, creator = _target(fields.target)
    filters = fields.filters or {}
    unknown = sorted(set(filters) - set(_FILTERS))
    if unknown:
        raise InvalidField(
            f"filters.{unknown[0]}", f"unknown filter; filters: {', '.join(_FILTERS)}"
        )
    low = _liquidity(filters, "minLiquidity", token_in)
    high = _liquidity(filters, "maxLiquidity", token_in)
    if low is not None and high is not None and low > high:
        raise InvalidField("filters.maxLiquidity", "must be at least minLiquidity")
    return SniperTerms(
        target_mint=mint,
        target_creator=creator,
        min_liquidity=low,
        max_liquidity=high,
        require_mint_renounced=_flag(filters, "requireMintRenounced", False),
        require_not_freezable=_flag(filters, "requireNotFreezable", True),
        min_lp_burned_pct=_pct(filters, "minLpBurnedPct"),
        max_top_holder_pct=_pct(filters, "maxTopHolderPct"),
        max_price=_max_price(fields.max_price),
        delay_slots=_bounded(fields.delay_slots, "delaySlots", 0, MAX_DELAY_SLOTS, 0),
        priority_fee=_priority_fee(fields.priority_fee),
        exit=None if fields.exit is None else parse_exit_terms(fields.exit),
    )


def judge(terms: SniperTerms, launch: PoolLaunched) -> list[FilterVerdict]:
    """Each of the order's filters on `launch`, in the order API.md lists them."""
    verdicts: list[FilterVerdict] = []
    liquidity = launch.quote_reserve
    if terms.min_liquidity is not None:
        verdicts.append(
            _verdict(
                "minLiquidity", liquidity >= terms.min_liquidity, liquidity, terms.min_liquidity
            )
        )
    if terms.max_liquidity is not None:
        verdicts.append(
            _verdict(
                "maxLiquidity", liquidity <= terms.max_liquidity, liquidity, terms.max_liquidity
            )
        )
    if terms.require_mint_renounced:
        renounced = launch.mint_authority is None
        verdicts.append(_verdict("requireMintRenounced", renounced, launch.mint_authority, None))
    if terms.require_not_freezable:
        unfreezable = launch.freeze_authority is None
        verdicts.append(_verdict("requireNotFreezable", unfreezable, launch.freeze_authority, None))
    if terms.min_lp_burned_pct is not None:
        burned = launch.lp_burned_pct
        verdicts.append(
            _verdict(
                "minLpBurnedPct", burned >= terms.min_lp_burned_pct, burned, terms.min_lp_burned_pct
            )
        )
    if terms.max_top_holder_pct is not None:
        top = launch.top_holder_pct
        verdicts.append(
            _verdict(
                "maxTopHolderPct", top <= terms.max_top_holder_pct, top, terms.max_top_holder_pct
            )
        )
    return verdicts


def is_target(terms: SniperTerms, token_in_mint: str, launch: PoolLaunched) -> bool:
    """True when the pool pairs `tokenIn` with a new token and is the order's target."""
    if launch.quote_mint != token_in_mint:
        return False
    if terms.target_mint is not None and launch.base_mint != terms.target_mint:
        return False
    return terms.target_creator is None or launch.creator == terms.target_creator


def max_price_minimum(
    terms: SniperTerms, amount_in: int, token_in: Token, decimals_out: int
) -> int:
    """The least launched-token output (atomic) that keeps the price at or under
    `maxPrice` (0 without one): amountIn / maxPrice, rounded up."""
    if terms.max_price is None:
        return 0
    units = Decimal(amount_in).scaleb(decimals_out - token_in.decimals) / Decimal(terms.max_price)
    return int(units.to_integral_value(rounding=ROUND_CEILING))


def _verdict(name: str, passed: bool, seen: object, wanted: object) -> FilterVerdict:
    return FilterVerdict(
        filter=name,
        passed=passed,
        seen="none" if seen is None else str(seen),
        wanted="none" if wanted is None else str(wanted),
    )


def _target(target: dict[str, object] | None) -> tuple[str | None, str | None]:
    if target is None:
        return None, None
    if len(target) != 1 or next(iter(target)) not in ("mint", "creator"):
        raise InvalidField("target", 'must be {"mint": ...} or {"creator": ...}')
    ((key, value),) = target.items()
    if not isinstance(value, str) or not _BASE58.fullmatch(value):
        raise InvalidField(f"target.{key}", f"must be a base58 address, got {value!r}")
    return (value, None) if key == "mint" else (None, value)


def _liquidity(filters: dict[str, object], name: str, token_in: Token) -> int | None:
    raw = filters.get(name)
    if raw is None:
        return None
    if not isinstance(raw, str | int | Decimal) or isinstance(raw, bool):
        raise InvalidField(f"filters.{name}", "must be a decimal string or number")
    return parse_amount(raw, token_in, f"filters.{name}")


def _flag(filters: dict[str, object], name: str, default: bool) -> bool:
    value = filters.get(name, default)
    if not isinstance(value, bool):
        raise InvalidField(f"filters.{name}", "must be true or false")
    return value


def _pct(filters: dict[str, object], name: str) -> int | None:
    value = filters.get(name)
    return None if value is None else _bounded(value, f"filters.{name}", 0, 100, 0)


def _bounded(value: object, field: str, low: int, high: int, default: int) -> int:
    if value is None:
        return default
    if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
        raise InvalidField(field, f"must be an integer between {low} and {high}")
    return value


def _max_price(raw: str | int | Decimal | None) -> str | None:
    if raw is None:
        return None
    price = parse_decimal(raw, "maxPrice")
    if price <= 0:
        raise InvalidField("maxPrice", "must be greater than 0")
    return format(price.normalize(), "f")


def _priority_fee(value: int | None) -> int | None:
    if value is None:
        return None
    return _bounded(value, "priorityFee", 0, MAX_PRIORITY_FEE, 0)

"""Reading `simulator_launchPool`'s params and answering `getSignaturesForAddress`.

The params are SIMULATOR.md §12's: amounts as decimal strings in token units, read
exactly (never through a float) into the atomic units a `LaunchSpec` holds. Every
refusal names the field (`InvalidRequest`, which the RPC answers as -32602).
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from solders.pubkey import Pubkey

from simulator.catalog import Catalog
from simulator.chain import Chain
from simulator.errors import InvalidRequest
from simulator.launches import Launch, LaunchSpec
from simulator.ledger import Ledger
from simulator.tx_views import reaches

VENUES = ("raydium-cpmm",)  # meteora-dlmm launches are not simulated yet
FIELDS = {
    "venue", "quoteToken", "quoteReserve", "baseReserve", "baseDecimals", "openInSlots",
    "creator", "mintRenounced", "freezable", "lpBurnedPct", "topHolderPct",
    "rugAfterSlots", "crowd",
}  # fmt: skip
MAX_SIGNATURES_PAGE = 1_000


def launch_spec(params: dict[str, Any], catalog: Catalog) -> LaunchSpec:
    """The launch `params` ask for."""
    unknown = sorted(set(params) - FIELDS)
    if unknown:
        raise InvalidRequest(unknown[0], f"unknown field; fields: {sorted(FIELDS)}")
    venue = params.get("venue", "raydium-cpmm")
    if venue not in VENUES:
        raise InvalidRequest("venue", f"must be one of {list(VENUES)}, got {venue!r}")
    quote = catalog.token(_text(params, "quoteToken", "SOL"), "quoteToken")
    decimals = _integer(params, "baseDecimals", 6)
    if not 0 <= decimals <= 9:
        raise InvalidRequest("baseDecimals", "must be between 0 and 9")
    creator = params.get("creator")
    if creator is not None:
        _address(creator, "creator")
    rug = params.get("rugAfterSlots")
    return LaunchSpec(
        quote_mint=quote.mint,
        quote_reserve=_units(params, "quoteReserve", quote.decimals, "100"),
        base_reserve=_units(params, "baseReserve", decimals, "800000000"),
        base_decimals=decimals,
        open_in_slots=_integer(params, "openInSlots", 2),
        creator=creator,
        mint_renounced=_flag(params, "mintRenounced", True),
        freezable=_flag(params, "freezable", False),
        lp_burned_pct=_integer(params, "lpBurnedPct", 100),
        top_holder_pct=_integer(params, "topHolderPct", 12),
        rug_after_slots=None if rug is None else _integer(params, "rugAfterSlots", 0),
        crowd=_flag(params, "crowd", True),
    )


def launch_view(launch: Launch) -> dict[str, object]:
    return {
        "pool": launch.pool,
        "baseMint": launch.base_mint,
        "quoteMint": launch.quote_mint,
        "creator": launch.creator,
        "slot": launch.slot,
        "openSlot": launch.open_slot,
        "openTime": launch.open_time,
        "signature": launch.signature,
    }


def signatures_for_address(
    signatures: list[str], ledger: Ledger, chain: Chain, config: dict[str, Any]
) -> list[dict[str, object]]:
    """Newest first, as Solana pages them: at most `limit`, older than `before`, newer
    than `until`, reached at `commitment` (confirmed or finalized)."""
    commitment = config.get("commitment", "finalized")
    if commitment not in ("confirmed", "finalized"):
        raise InvalidRequest("commitment", "Method does not support commitment below `confirmed`")
    limit = config.get("limit", MAX_SIGNATURES_PAGE)
    if not isinstance(limit, int) or not 1 <= limit <= MAX_SIGNATURES_PAGE:
        raise InvalidRequest("limit", f"must be an integer between 1 and {MAX_SIGNATURES_PAGE}")
    before, until = config.get("before"), config.get("until")
    found: list[dict[str, object]] = []
    started = before is None
    for signature in reversed(signatures):
        if not started:
            started = signature == before
            continue
        if signature == until or len(found) == limit:
            break
        record = ledger.get(signature)
        if record is None or not reaches(record, chain.slot, commitment):
            continue
        found.append(
            {
                "signature": signature,
                "slot": record.landed_slot,
                "err": None,
                "memo": None,
                "blockTime": record.executed.block_time if record.executed else None,
                "confirmationStatus": record.commitment(chain.slot),
            }
        )
    return found


def _text(params: dict[str, Any], field: str, default: str) -> str:
    value = params.get(field, default)
    if not isinstance(value, str):
        raise InvalidRequest(field, "must be a string")
    return value


def _integer(params: dict[str, Any], field: str, default: int) -> int:
    value = params.get(field, default)
    if not isinstance(value, int) or isinstance(value, bool):
        raise InvalidRequest(field, "must be an integer")
    return value


def _flag(params: dict[str, Any], field: str, default: bool) -> bool:
    value = params.get(field, default)
    if not isinstance(value, bool):
        raise InvalidRequest(field, "must be true or false")
    return value


def _units(params: dict[str, Any], field: str, decimals: int, default: str) -> int:
    text = _text(params, field, default)
    try:
        amount = Decimal(text)
    except InvalidOperation:
        raise InvalidRequest(field, f"must be a decimal string, got {text!r}") from None
    if not amount.is_finite() or amount <= 0 or amount.scaleb(decimals) % 1 != 0:
        raise InvalidRequest(field, f"must be more than 0 with at most {decimals} decimals")
    return int(amount.scaleb(decimals))


def _address(value: object, field: str) -> None:
    try:
        Pubkey.from_string(str(value))
    except ValueError:
        raise InvalidRequest(field, f"must be a base58 address, got {value!r}") from None

"""Looking up tokens, pairs and pools by what a request names, and parsing amounts.

Every lookup that fails raises InvalidRequest naming the request field, so the
service can answer 400 with a message that tells the caller what to fix.
"""

from __future__ import annotations

from simulator.errors import InvalidRequest
from simulator.universe import Listing, Pair, Token

U64_MAX = 2**64 - 1


def parse_amount(value: str | int, field: str, minimum: int = 1) -> int:
    """An atomic amount from a decimal string or an integer, within u64."""
    if isinstance(value, str):
        if not value.isdigit() or not value.isascii():
            raise InvalidRequest(field, f"expected a decimal string of atomic units, got {value!r}")
        value = int(value)
    if not minimum <= value <= U64_MAX:
        raise InvalidRequest(field, f"must be between {minimum} and {U64_MAX}")
    return value


class Catalog:
    """The universe as the API sees it."""

    def __init__(self, listings: list[Listing]) -> None:
        self.listings = listings
        self.tokens: list[Token] = []
        self._tokens: dict[str, Token] = {}
        for listing in listings:
            for token in (listing.pair.base, listing.pair.quote):
                if token.mint not in self._tokens:
                    self.tokens.append(token)
                self._tokens[token.mint] = token
                self._tokens[token.symbol.upper()] = token
        self._pools = {listing.pool.info.address: listing for listing in listings}
        # Launched pools (simulator.launchpad) trade and quote like the others, but stay
        # out of `listings` and `tokens`: the universe a client is shown at start.
        self.launched: list[Listing] = []

    def add_launched(self, listing: Listing) -> None:
        """A launched pool and its new token, found by mint (a symbol could collide)."""
        self.launched.append(listing)
        self._pools[listing.pool.info.address] = listing
        self._tokens[listing.pair.base.mint] = listing.pair.base

    def token(self, name: str, field: str) -> Token:
        """A token by mint address or by symbol (case-insensitive)."""
        token = self._tokens.get(name) or self._tokens.get(name.upper())
        if token is None:
            raise InvalidRequest(field, f"unknown token {name!r}")
        return token

    def direction(self, input_name: str, output_name: str) -> tuple[Pair, bool, Token, Token]:
        """(pair, x_to_y, input token, output token) for a swap request."""
        token_in = self.token(input_name, "inputMint")
        token_out = self.token(output_name, "outputMint")
        if token_in == token_out:
            raise InvalidRequest("outputMint", "must differ from inputMint")
        for listing in (*self.listings, *self.launched):
            pair = listing.pair
            if (pair.base, pair.quote) == (token_in, token_out):
                return pair, True, token_in, token_out
            if (pair.base, pair.quote) == (token_out, token_in):
                return pair, False, token_in, token_out
        pair_name = f"{token_in.symbol}/{token_out.symbol}"
        raise InvalidRequest("outputMint", f"no pool trades {pair_name}")

    def pools_of(self, pair: Pair) -> list[Listing]:
        return [listing for listing in (*self.listings, *self.launched) if listing.pair == pair]

    def by_address(self, address: str) -> Listing:
        return self._pools[address]

    def pool(self, address: str, pair: Pair, field: str) -> Listing:
        """A pool by address, which must trade `pair`."""
        listing = self._pools.get(address)
        if listing is None:
            raise InvalidRequest(field, f"unknown pool {address!r}")
        if listing.pair != pair:
            raise InvalidRequest(
                field, f"pool {address} trades {listing.pair.symbol}, not {pair.symbol}"
            )
        return listing

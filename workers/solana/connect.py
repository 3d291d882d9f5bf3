"""The engine's outside parties, opened together: the RPC node (and the new-pool feed
over the same connection), the quote service and the wallet (which reads pool keys from
the quote service)."""

from __future__ import annotations

from dataclasses import dataclass

from solders.keypair import Keypair

from workers.solana.http import HttpClient, Transport
from workers.solana.launch_feed import LaunchFeedClient
from workers.solana.quote_client import QuoteClient
from workers.solana.rpc_client import RpcClient
from workers.solana.wallet import Wallet


@dataclass
class SolanaClients:
    rpc: RpcClient
    quotes: QuoteClient
    wallet: Wallet
    launches: LaunchFeedClient

    async def close(self) -> None:
        await self.rpc.close()
        await self.quotes.close()


def connect(
    rpc_url: str,
    quote_url: str,
    keypair: Keypair,
    max_connections: int = 16,
    rpc_timeout_s: float = 5.0,
    websocket_url: str | None = None,
) -> SolanaClients:
    """The clients of the node at `rpc_url` and the quote service at `quote_url`,
    signing with `keypair`, each with a pool of up to `max_connections`; an RPC request
    unanswered after `rpc_timeout_s` is `VenueUnavailable`. With `websocket_url` the
    new-pool feed subscribes there (Solana PubSub)."""
    return over(
        HttpClient(rpc_url, timeout_s=rpc_timeout_s, max_connections=max_connections),
        HttpClient(quote_url, max_connections=max_connections),
        keypair,
        websocket_url,
    )


def over(
    rpc: Transport, quote: Transport, keypair: Keypair, websocket_url: str | None = None
) -> SolanaClients:
    """The same clients over given transports (tests: the simulator without sockets)."""
    quotes = QuoteClient(quote)
    return SolanaClients(
        rpc=RpcClient(rpc, keypair.pubkey()),
        quotes=quotes,
        wallet=Wallet(keypair, quotes.pool_keys),
        launches=LaunchFeedClient(rpc, websocket_url),
    )

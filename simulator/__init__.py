"""A seeded, deterministic simulation of Solana with Raydium and Meteora pools.

The engine executes against this package instead of a live chain: `core.Simulator`
is the in-process form, `service` serves the same core over HTTP, and `durable` keeps
its chain across restarts in a journal. Only the standard library and msgspec are
imported here (an import-linter contract enforces it).
"""

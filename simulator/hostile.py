"""A hostile RPC node: the simulator answering as the worst real Solana RPC does.

Each mode alone or any together, seeded, set at start (`--hostile SPEC`,
`SIMULATOR_HOSTILE`) or while running (the control method `simulator_hostile`):

    drop:P         a share P of sends is taken (the transaction is on its way to the
                   leader) and the answer never comes: the connection is held for `hold`
                   seconds, then cut, so the client times out
    rate_limit:P   a share P of sends and status reads answered HTTP 429, half of them
                   after the call was carried out (the send taken, the reply a refusal)
    unavailable:P  the same with HTTP 503
    lag:N          a landed signature shows null, in statuses and `getTransaction`, until
                   N slots after the slot it landed in (a status index behind)
    stale:N        a share `stale_share` (default 0.5) of status reads answered as of N
                   slots ago, by a node behind the one that answered the block height
    slow:P         a share P of requests (sends, status and other reads) carried out at
                   once but answered only after `hold` seconds
    hold:S         seconds a dropped or slow answer is held; default 6, past the
                   engine's 5 s client timeout
    seed:N         seed of the draws

`SPEC` is `name:value,...`, e.g. `drop:0.2,rate_limit:0.1,lag:3`; empty: a faithful node.
Control methods (`simulator_*`) are never touched: they are the tests' own door. The chain
itself is never changed: every mode only changes what a client is told, and when.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Annotated

import msgspec
from aiohttp import web
from msgspec import Meta

from simulator.streams import stream

Share = Annotated[float, Meta(ge=0.0, le=1.0)]
Slots = Annotated[int, Meta(ge=0, le=150)]
Answer = Callable[[], Awaitable[web.Response]]


class HostileError(ValueError):
    """A hostile spec refused; `field` names the setting."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


class HostileConfig(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    drop: Share = 0.0
    rate_limit: Share = 0.0
    unavailable: Share = 0.0
    lag: Slots = 0
    stale: Slots = 0
    stale_share: Share = 0.5
    slow: Share = 0.0
    hold: Annotated[float, Meta(ge=0.0, le=120.0)] = 6.0
    seed: int = 0

    @classmethod
    def parse(cls, spec: str) -> HostileConfig:
        """`name:value,...` as a config; `HostileError` names the first bad entry."""
        values: dict[str, str] = {}
        for entry in (part.strip() for part in spec.split(",")):
            if not entry:
                continue
            name, colon, value = entry.partition(":")
            name = name.strip()
            if not colon or not value.strip():
                raise HostileError(name or entry, "expected name:value")
            if name not in cls.__struct_fields__:
                raise HostileError(name, f"unknown mode; modes: {sorted(cls.__struct_fields__)}")
            values[name] = value.strip()
        try:
            return msgspec.convert(values, cls, strict=False)
        except msgspec.ValidationError as error:
            text = str(error)
            field = text.rpartition("$.")[2].rstrip("`") if "$." in text else "hostile"
            raise HostileError(field, text) from None

    def spec(self) -> str:
        """The spec this config is parsed from, its non-default entries only."""
        default = HostileConfig()
        return ",".join(
            f"{name}:{getattr(self, name)}"
            for name in self.__struct_fields__
            if getattr(self, name) != getattr(default, name)
        )

    @property
    def faithful(self) -> bool:
        return self == HostileConfig(hold=self.hold, seed=self.seed)


class Dropped(Exception):
    """The answer is never sent: the server cuts the connection instead."""


def _refusal(status: int) -> web.Response:
    message = "Too many requests" if status == 429 else "Service unavailable"
    body = msgspec.json.encode(
        {"jsonrpc": "2.0", "error": {"code": status, "message": message}, "id": None}
    )
    return web.Response(body=body, status=status, content_type="application/json")


class Hostile:
    """The hostile layer of one server; `configure` changes it while serving."""

    def __init__(self, config: HostileConfig | None = None) -> None:
        self.configure(config or HostileConfig())

    def configure(self, config: HostileConfig) -> None:
        self.config = config
        self._random = stream(config.seed, "hostile")
        self.counts: dict[str, int] = {}

    def _draw(self, share: float) -> bool:
        return share > 0 and self._random.random() < share

    def count(self, what: str) -> None:
        """Note that a mode changed one answer (`counts`, read by `simulator_hostile`)."""
        self.counts[what] = self.counts.get(what, 0) + 1

    def behind(self) -> int:
        """How many slots behind the chain this status read is answered."""
        config = self.config
        if config.stale and self._draw(config.stale_share):
            self.count("stale")
            return config.stale
        return 0

    async def intercept(self, method_class: str, answer: Answer) -> web.Response:
        """Answer a request of `method_class` as the configured node would."""
        config = self.config
        if method_class == "control" or config.faithful:
            return await answer()
        if method_class in ("send", "status"):
            for status, share in ((429, config.rate_limit), (503, config.unavailable)):
                if self._draw(share):
                    after = self._random.random() < 0.5
                    self.count(f"{status}_{'after' if after else 'before'}_{method_class}")
                    if after:
                        await answer()
                    return _refusal(status)
        if method_class == "send" and self._draw(config.drop):
            self.count("drop")
            await answer()
            await asyncio.sleep(config.hold)
            raise Dropped
        if self._draw(config.slow):
            self.count(f"slow_{method_class}")
            response = await answer()
            await asyncio.sleep(config.hold)
            return response
        return await answer()

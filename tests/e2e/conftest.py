"""End-to-end fixtures: the simulator served in this test's event loop (so its failure
knobs can be set), the engine's real processes, and an API client on the same database.

`ledger` is where the simulator's CPMM pools execute (SIMULATOR_LEDGER): "math" unless a
test module parametrizes it (tests/e2e/test_execution.py runs in both)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager

import msgspec
import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from api.app import create_app
from api.services import ApiServices
from db.event_store import PostgresEventStore
from db.pool import create_pool
from simulator.config import LedgerMode, SimulatorConfig
from tests.support.api_keys import bearer, key_ring, make_key
from tests.support.engine import INSTANT_VENUE, Engine, running_engine
from tests.support.simulator_thread import SimulatorThread, simulator_thread
from workers.solana.quoter import VenueQuoter


class Stack:
    def __init__(
        self, engine: Engine, simulator: SimulatorThread, client: AsyncTestClient[Litestar]
    ) -> None:
        self.engine = engine
        self.simulator = simulator
        self.client = client


StackFactory = Callable[..., AbstractAsyncContextManager[Stack]]


@pytest.fixture
def ledger() -> LedgerMode:
    return "math"


@pytest.fixture
def stack(postgres_admin: str, redis_server: str, ledger: LedgerMode) -> StackFactory:
    @asynccontextmanager
    async def make(
        config: SimulatorConfig | None = None, workers: int = 1, **settings: str
    ) -> AsyncIterator[Stack]:
        config = msgspec.structs.replace(config or SimulatorConfig(seed=7), ledger=ledger)
        with simulator_thread(config) as simulator:
            url = simulator.url
            with running_engine(
                postgres_admin,
                redis_server,
                url,
                workers=workers,
                settings={**INSTANT_VENUE, **settings},
            ) as engine:
                pool = create_pool(engine.database_url, min_size=1, max_size=4, acquire_timeout_s=5)
                await pool.open(wait=True)
                quotes = VenueQuoter(url)
                services = ApiServices(
                    store=PostgresEventStore(pool),
                    keys=key_ring(pool),
                    quotes=quotes,
                    on_shutdown=[quotes.close],
                )
                try:
                    async with AsyncTestClient(create_app(services)) as client:
                        client.headers.update(bearer(make_key(engine.database_url, admin=True)))
                        yield Stack(engine, simulator, client)
                finally:
                    await pool.close()

    return make

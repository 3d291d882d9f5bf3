"""A worker takes no message before its pools and clients are open: a store or Redis
that is down at boot is waited for, never answered with a failed step per message."""

from __future__ import annotations

import threading
from typing import cast

import psycopg
import pytest
from dramatiq import Worker
from dramatiq.brokers.stub import StubBroker
from dramatiq.middleware import AsyncIO

from commands.step_context import StepContext
from workers.actors import BootAbandoned, Resources, WorkerResources


async def _nothing_to_close() -> None:
    return None


def _worker(resources: Resources) -> Worker:
    # AsyncIO first: it starts the loop the opener runs on.
    broker = StubBroker(middleware=[AsyncIO(), resources])
    return Worker(broker, worker_threads=1)


def _abandoned(resources: Resources) -> BootAbandoned:
    worker = _worker(resources)
    with pytest.raises(BootAbandoned) as abandoned:
        worker.start()
    try:
        assert not worker.consumers, "a consumer started: messages would be taken"
        assert not resources.booted
        with pytest.raises(AssertionError, match="not booted"):
            resources.current  # noqa: B018 (the property raises when not booted)
    finally:
        worker.broker.emit_after("worker_shutdown", worker)
    return abandoned.value


def test_a_worker_whose_store_is_down_at_boot_waits_for_it() -> None:
    tries = 0

    async def opener() -> WorkerResources:
        nonlocal tries
        tries += 1
        if tries < 3:
            raise psycopg.OperationalError("connection refused")
        return WorkerResources(cast(StepContext, object()), _nothing_to_close)

    resources = Resources(opener, threading.Event())
    worker = _worker(resources)
    worker.start()
    try:
        assert tries == 3
        assert resources.booted
        resources.current  # noqa: B018 (the property raises when not booted)
    finally:
        worker.stop()


def test_a_boot_that_fails_for_good_is_reported_not_swallowed() -> None:
    async def opener() -> WorkerResources:
        raise ValueError("WALLET_KEYPAIR is not a keypair")

    abandoned = _abandoned(Resources(opener, threading.Event()))
    assert isinstance(abandoned.error, ValueError)


def test_a_stop_during_boot_ends_the_waiting() -> None:
    stopping = threading.Event()

    async def opener() -> WorkerResources:
        stopping.set()  # SIGTERM arrives while the store is still down
        raise psycopg.OperationalError("connection refused")

    assert _abandoned(Resources(opener, stopping)).error is None

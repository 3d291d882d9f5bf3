"""Group commit for appends: concurrent appends share one round trip and one commit.

Every append is a commit, and on a small machine the commit (WAL flush, send and
receive syscalls) costs more than the insert. So appends that arrive while earlier
ones are in flight wait in a queue and go together through `append_events_batch`,
which still decides each append on its own: a conflict refuses that append only.
With no concurrency a batch is one append, sent at once.
"""

from __future__ import annotations

import asyncio
import logging
import weakref
from dataclasses import dataclass, field

import msgspec
import psycopg
from psycopg import AsyncConnection, errors
from psycopg_pool import AsyncConnectionPool, PoolTimeout

from domain.records import (
    AppendResult,
    CommandConflict,
    ConcurrencyConflict,
    EventMetadata,
    StoreUnavailable,
)

# Under 64: each append is a subtransaction, and a transaction with more than 64 of
# them makes every snapshot in the cluster take a slow path.
MAX_BATCH = 50
_APPEND_BATCH = (
    "SELECT ordinal, stream_id, first_version, last_version, duplicate, error_code,"
    " error_message, error_detail FROM append_events_batch(%s::jsonb)"
)
_encoder = msgspec.json.Encoder()
log = logging.getLogger(__name__)


class EventRow(msgspec.Struct):
    """One event as `append_events` reads it; data is passed through as is."""

    id: str
    type: str
    data: msgspec.Raw
    metadata: EventMetadata


class AppendRequest(msgspec.Struct):
    """One append as `append_events_batch` reads it."""

    stream: str
    expected: int
    command: str | None
    hash: str
    events: list[EventRow]


Waiting = tuple[AppendRequest, "asyncio.Future[AppendResult]"]


@dataclass
class _LoopQueue:
    waiting: list[Waiting] = field(default_factory=list)
    drains: set[asyncio.Task[None]] = field(default_factory=set)


class AppendBatcher:
    """Sends appends in batches, at most `max_in_flight` batches at a time.

    A batch forms from what waited while the previous ones were in flight, so under
    light load an append is sent at once and under heavy load commits are shared."""

    def __init__(
        self, pool: AsyncConnectionPool[AsyncConnection], *, max_in_flight: int = 4
    ) -> None:
        self._pool = pool
        self._max_in_flight = max_in_flight
        # Futures belong to one event loop; tests may drive one store from two loops.
        self._queues: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _LoopQueue] = (
            weakref.WeakKeyDictionary()
        )

    async def append(self, request: AppendRequest) -> AppendResult:
        loop = asyncio.get_running_loop()
        queue = self._queues.setdefault(loop, _LoopQueue())
        result: asyncio.Future[AppendResult] = loop.create_future()
        queue.waiting.append((request, result))
        if len(queue.drains) < self._max_in_flight:
            drain = loop.create_task(self._drain(queue))
            queue.drains.add(drain)  # a reference, so the task is not collected mid-flight
            # For a drain cancelled before it ran; a drain that ran leaves by itself.
            drain.add_done_callback(queue.drains.discard)
        return await result

    async def _drain(self, queue: _LoopQueue) -> None:
        """Send what waits until nothing does. It leaves `drains` in the very step that
        found the queue empty: a done callback would run a turn later, and an append
        arriving in between (its caller woken by the last batch) would see every drain
        still counted, start none, and wait forever."""
        this = asyncio.current_task()
        try:
            while queue.waiting:
                batch = queue.waiting[:MAX_BATCH]
                del queue.waiting[:MAX_BATCH]
                await self._send_settling(queue, batch)
        finally:
            queue.drains.discard(this)

    async def _send_settling(self, queue: _LoopQueue, batch: list[Waiting]) -> None:
        """`_send`, and whatever goes wrong every future of the batch is settled."""
        try:
            await self._send(batch)
        except asyncio.CancelledError:
            # The loop is going away: no waiter is left hanging, this batch's nor, when
            # no other drain will send them, the queue's.
            stranded = list(batch)
            if queue.drains <= {asyncio.current_task()}:
                stranded += queue.waiting
                queue.waiting.clear()
            for _, result in stranded:
                result.cancel()
            raise
        except Exception as error:
            # The append may or may not have committed: its caller hears the error, as
            # after a lost connection, and the drain goes on with the next batch.
            log.exception("append batch failed", extra={"appends": len(batch)})
            for _, result in batch:
                _settle(result, error)

    async def _send(self, batch: list[Waiting]) -> None:
        batch, encoded = _encoded(batch)
        if not batch:
            return
        payload = (b"[" + b",".join(encoded) + b"]").decode()
        try:
            async with self._pool.connection() as conn:
                cursor = await conn.execute(_APPEND_BATCH, (payload,))
                rows = await cursor.fetchall()
        except (errors.DeadlockDetected, errors.SerializationFailure) as error:
            # Two batches took the same keys in opposite orders; alone, none can.
            if len(batch) == 1:
                _settle(batch[0][1], ConcurrencyConflict(str(error)))
                return
            for waiting in batch:
                await self._send([waiting])
            return
        except (psycopg.Error, PoolTimeout) as error:
            for _, result in batch:
                _settle(result, store_error(error))
            return
        for (request, result), row in zip(batch, rows, strict=True):
            _settle(result, _outcome(request, row))


def _encoded(batch: list[Waiting]) -> tuple[list[Waiting], list[bytes]]:
    """The appends of `batch` that encode, and their JSON; each one that does not
    fails alone (its batch mates are still sent)."""
    kept, encoded = [], []
    for request, result in batch:
        try:
            encoded.append(_encoder.encode(request))
        except (TypeError, ValueError, OverflowError) as error:
            _settle(result, error)
        else:
            kept.append((request, result))
    return kept, encoded


def _outcome(request: AppendRequest, row: tuple[object, ...]) -> AppendResult | Exception:
    _, stream_id, first, last, duplicate, code, message, detail = row
    if code is None:
        return AppendResult(str(stream_id), int(first), int(last), bool(duplicate))  # type: ignore[call-overload]
    if code == "OE422":
        return CommandConflict(request.command or "", str(detail or ""))
    return ConcurrencyConflict(f"stream {request.stream}: {message}")


def store_error(error: psycopg.Error | PoolTimeout) -> Exception:
    """What the store raises for a driver error: StoreUnavailable when PostgreSQL
    cannot be reached or answered too late, else the error itself."""
    if isinstance(error, PoolTimeout | psycopg.OperationalError | errors.QueryCanceled):
        return StoreUnavailable(str(error))
    return error


def _settle(result: asyncio.Future[AppendResult], outcome: AppendResult | Exception) -> None:
    if result.done():  # the caller gave up (cancelled); the append may still have landed
        return
    if isinstance(outcome, Exception):
        result.set_exception(outcome)
    else:
        result.set_result(outcome)

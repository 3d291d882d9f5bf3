"""A TCP proxy on a thread of its own, in front of a server the engine uses, that can
turn into a black hole: connections are still accepted (the kernel completes the
handshake), and nothing more is read or written either way until it is opened again,
as when a server hangs or a firewall drops packets. Bytes sent meanwhile wait in the
kernel's buffers and go through once it opens again, unless the client gave up."""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Iterator
from contextlib import contextmanager

Target = tuple[str, int] | str  # (host, port), or a unix socket's path


class TcpProxy:
    def __init__(self, target: Target, listen_host: str = "127.0.0.1") -> None:
        self.target = target
        self.listen_host = listen_host
        self.port = 0
        self.connections = 0  # accepted so far
        self._loop = asyncio.new_event_loop()
        self._open = asyncio.Event()
        self._server: asyncio.Server | None = None
        self._pipes: set[asyncio.Task[None]] = set()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)

    def start(self) -> TcpProxy:
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self._listen(), self._loop).result(10)
        return self

    async def _listen(self) -> None:
        self._open.set()
        self._server = await asyncio.start_server(self._accept, self.listen_host, 0)
        self.port = self._server.sockets[0].getsockname()[1]

    @property
    def address(self) -> str:
        return f"{self.listen_host}:{self.port}"

    def black_hole(self) -> None:
        """From now on nothing passes, on new connections or open ones."""
        self._loop.call_soon_threadsafe(self._open.clear)

    def open(self) -> None:
        self._loop.call_soon_threadsafe(self._open.set)

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        me = asyncio.current_task()
        if me is not None:
            self._pipes.add(me)
            me.add_done_callback(self._pipes.discard)
        await self._open.wait()  # a black hole accepts, and never answers
        try:
            if isinstance(self.target, str):
                target_reader, target_writer = await asyncio.open_unix_connection(self.target)
            else:
                target_reader, target_writer = await asyncio.open_connection(*self.target)
        except OSError:
            writer.close()
            return
        for source, sink in ((reader, target_writer), (target_reader, writer)):
            task = asyncio.create_task(self._pipe(source, sink))
            self._pipes.add(task)
            task.add_done_callback(self._pipes.discard)

    async def _pipe(self, source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
        try:
            while True:
                await self._open.wait()
                data = await source.read(65536)
                if not data:
                    break
                await self._open.wait()
                sink.write(data)
                await sink.drain()
        except (OSError, asyncio.IncompleteReadError):
            pass
        finally:
            with contextlib.suppress(OSError, RuntimeError):
                sink.close()

    def close(self) -> None:
        async def stop() -> None:
            if self._server is not None:
                self._server.close()
            for task in list(self._pipes):
                task.cancel()
            await asyncio.gather(*self._pipes, return_exceptions=True)

        if self._thread.is_alive():
            asyncio.run_coroutine_threadsafe(stop(), self._loop).result(10)
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(10)
        self._loop.close()


@contextmanager
def tcp_proxy(target: Target, listen_host: str = "127.0.0.1") -> Iterator[TcpProxy]:
    """A proxy to `target` listening on a free port of `listen_host`, for the block."""
    proxy = TcpProxy(target, listen_host).start()
    try:
        yield proxy
    finally:
        proxy.close()

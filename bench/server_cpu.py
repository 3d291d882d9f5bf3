"""Which kept HTTP server costs the simulator less CPU per request: aiohttp's web server
(what `simulator.server` uses) or litestar under uvicorn, each serving the same trivial
JSON-RPC handler (decode the body, answer a constant), in a process of its own.

    python -m bench.server_cpu [--requests 5000] [--rounds 3]

The same hand-written client (`bench.keepalive_client`, the cheapest) drives both, 16
requests at once; the figure is the server process's CPU time (from /proc) per request,
the median of the rounds, which alternate the servers.
"""

from __future__ import annotations

import argparse
import asyncio
import socket
import statistics
import subprocess
import sys
import time
from typing import Any

import msgspec
import uvicorn
from aiohttp import web
from litestar import Litestar, Request, post
from litestar.response import Response

from bench.engine_runs import process_cpu_s
from bench.keepalive_client import KeepAliveClient
from tests.support.servers import PROJECT_ROOT, free_port

_BODY = msgspec.json.encode({"jsonrpc": "2.0", "id": 1, "method": "getBlockHeight"})
_ANSWER = msgspec.json.encode({"jsonrpc": "2.0", "result": 312_345_678, "id": 1})
SERVERS = ("aiohttp", "litestar+uvicorn")


def _answer(body: bytes) -> bytes:
    msgspec.json.decode(body)
    return _ANSWER


def serve_aiohttp(port: int) -> None:
    async def rpc(request: web.Request) -> web.Response:
        body = _answer(await request.read())
        return web.Response(body=body, content_type="application/json")

    app = web.Application()
    app.router.add_post("/", rpc)
    web.run_app(app, host="127.0.0.1", port=port, access_log=None, print=None)


@post("/", status_code=200)
async def litestar_rpc(request: Request[Any, Any, Any]) -> Response[bytes]:
    return Response(_answer(await request.body()), media_type="application/json")


def serve_litestar(port: int) -> None:
    app = Litestar([litestar_rpc], openapi_config=None)
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", access_log=False)


async def _measure(port: int, pid: int, requests: int) -> float:
    client = KeepAliveClient(f"http://127.0.0.1:{port}", max_connections=16)

    async def lane(count: int) -> None:
        for _ in range(count):
            status, _ = await client.request("POST", "/", _BODY)
            assert status == 200, status

    try:
        await asyncio.gather(*(lane(10) for _ in range(16)))  # warm
        before = process_cpu_s(pid)
        await asyncio.gather(*(lane(requests // 16) for _ in range(16)))
        return 1e6 * (process_cpu_s(pid) - before) / (requests // 16 * 16)
    finally:
        await client.close()


def _wait_listening(port: int) -> None:
    deadline = time.monotonic() + 30
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)
        else:
            return


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.server_cpu", description=__doc__)
    parser.add_argument("--requests", type=int, default=5_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--serve", choices=SERVERS, help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        (serve_aiohttp if args.serve == "aiohttp" else serve_litestar)(args.port)
        return
    seen: dict[str, list[float]] = {server: [] for server in SERVERS}
    for round_number in range(args.rounds):
        for server in SERVERS if round_number % 2 == 0 else tuple(reversed(SERVERS)):
            port = free_port()
            argv = [sys.executable, "-m", "bench.server_cpu", "--serve", server]
            child = subprocess.Popen([*argv, "--port", str(port)], cwd=PROJECT_ROOT)
            try:
                _wait_listening(port)
                seen[server].append(asyncio.run(_measure(port, child.pid, args.requests)))
            finally:
                child.terminate()
                child.wait(10)
    for server, figures in seen.items():
        print(
            f"{server:<17} server {statistics.median(figures):5.0f} µs CPU per request"
            f" (rounds: {', '.join(f'{f:.0f}' for f in figures)})",
            flush=True,
        )


if __name__ == "__main__":
    main()

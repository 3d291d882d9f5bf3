"""The fault suite's own tools do what their rows claim: the TCP proxy's black hole
accepts connections and answers nothing, and the network namespace's link is really cut
by the kernel, then slow, then whole again."""

from __future__ import annotations

import contextlib
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg
import pytest

from tests.support import netns
from tests.support.fault_rig import database_target, database_via
from tests.support.tcp_proxy import tcp_proxy


@contextmanager
def _echo_server(host: str = "127.0.0.1") -> Iterator[int]:
    """A TCP echo server on a thread; yields its port."""
    listener = socket.create_server((host, 0))
    listener.settimeout(0.2)
    done = threading.Event()

    def serve() -> None:
        while not done.is_set():
            try:
                connection, _ = listener.accept()
            except TimeoutError:
                continue
            threading.Thread(target=_echo, args=(connection,), daemon=True).start()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield listener.getsockname()[1]
    finally:
        done.set()
        thread.join(2)
        listener.close()


def _echo(connection: socket.socket) -> None:
    # A peer that resets (the proxy dropping a black-holed connection) ends the echo; an
    # exception here would fail whichever test runs when the thread notices.
    with connection, contextlib.suppress(OSError):
        while data := connection.recv(4096):
            connection.sendall(data)


def _round_trip(port: int, host: str = "127.0.0.1", timeout_s: float = 1.0) -> bytes:
    with socket.create_connection((host, port), timeout=timeout_s) as client:
        client.sendall(b"ping")
        return client.recv(4)


def test_the_black_hole_accepts_and_never_answers_until_opened() -> None:
    with _echo_server() as port, tcp_proxy(("127.0.0.1", port)) as proxy:
        assert _round_trip(proxy.port) == b"ping"
        with socket.create_connection(("127.0.0.1", proxy.port), timeout=1) as kept:
            kept.sendall(b"one ")
            assert kept.recv(4) == b"one "
            proxy.black_hole()
            time.sleep(0.05)
            accepted = proxy.connections
            # A new connection is accepted (the handshake completes) and then nothing.
            with socket.create_connection(("127.0.0.1", proxy.port), timeout=0.3) as fresh:
                fresh.sendall(b"ping")
                with pytest.raises(TimeoutError):
                    fresh.recv(4)
            # The proxy counts it on its own thread: on a busy machine, a moment later.
            deadline = time.monotonic() + 5
            while proxy.connections < accepted + 1 and time.monotonic() < deadline:
                time.sleep(0.01)
            assert proxy.connections == accepted + 1
            kept.sendall(b"two ")  # an open connection answers nothing either
            with pytest.raises(TimeoutError):
                kept.recv(4)
            proxy.open()
            kept.settimeout(2)
            assert kept.recv(4) == b"two "  # what waited goes through once open
        assert _round_trip(proxy.port) == b"ping"


pytestmark_netns = pytest.mark.skipif(
    netns.unavailable() is not None, reason=f"no network namespace: {netns.unavailable()}"
)


def _from_inside(space: netns.Namespace, port: int, timeout_s: float) -> tuple[bool, float]:
    """A round trip to the host's echo server from inside `space`: (answered, seconds)."""
    code = (
        "import socket,sys,time\n"
        "t=time.monotonic()\n"
        "try:\n"
        f"    c=socket.create_connection(({space.host_address!r},{port}),timeout={timeout_s})\n"
        "    c.sendall(b'x'*20000); got=b''\n"
        "    while len(got)<20000: got+=c.recv(65536)\n"
        "    print('ok', time.monotonic()-t)\n"
        "except OSError:\n"
        "    print('no', time.monotonic()-t)\n"
    )
    done = subprocess.run(
        [*space.prefix(), sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=timeout_s + 10,
        check=True,
    )
    answered, seconds = done.stdout.split()
    return answered == "ok", float(seconds)


@pytestmark_netns
def test_the_namespace_link_is_cut_then_slow_then_whole() -> None:
    with netns.namespace() as space, _echo_server(space.host_address) as port:
        assert _from_inside(space, port, 2)[0]
        space.cut()
        answered, cut_s = _from_inside(space, port, 1.5)
        assert not answered
        assert cut_s >= 1.0  # unanswered until the client's timeout: no reset, no refusal
        space.lossy_and_slow()
        answered, slow_s = _from_inside(space, port, 10)
        assert answered
        space.heal()
        answered, whole_s = _from_inside(space, port, 2)
        assert answered
        assert slow_s > whole_s


@pytest.mark.parametrize(
    "url",
    [
        "postgresql://postgres:secret@127.0.0.1:5499/oe_e2e_1",
        "host=127.0.0.1 port=5499 user=postgres password=secret dbname=oe_e2e_1",
    ],
)
def test_the_namespace_worker_reaches_the_same_database_through_its_proxy(url: str) -> None:
    # `fresh_database` hands out conninfo strings: a URL-only rewrite once gave the
    # namespace worker an unparsable DATABASE_URL, and it never started.
    via = psycopg.conninfo.conninfo_to_dict(database_via(url, "10.1.2.3", 4242))
    assert via == {
        "host": "10.1.2.3",
        "port": "4242",
        "user": "postgres",
        "password": "secret",
        "dbname": "oe_e2e_1",
    }


@pytest.mark.parametrize(
    ("url", "target"),
    [
        ("postgresql://postgres:secret@127.0.0.1:5499/oe_e2e_1", ("127.0.0.1", 5499)),
        ("host=127.0.0.1 port=5499 dbname=oe_e2e_1", ("127.0.0.1", 5499)),
        ("dbname=oe_e2e_1", ("127.0.0.1", 5432)),
        # The embedded PostgreSQL (pgserver) listens on a unix socket only: the limit-order
        # and PostgreSQL-restart rigs' namespace worker was proxied to ("/dir", 5432) and
        # never reached it.
        ("postgresql://postgres:@/postgres?host=/tmp/pg-sock", "/tmp/pg-sock/.s.PGSQL.5432"),
        ("host=/tmp/pg-sock port=6000 dbname=oe", "/tmp/pg-sock/.s.PGSQL.6000"),
    ],
)
def test_the_namespace_worker_proxy_targets_where_the_database_listens(
    url: str, target: object
) -> None:
    assert database_target(url) == target

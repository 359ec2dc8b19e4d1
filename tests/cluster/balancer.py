"""A small TCP load balancer for the cluster tests: round-robin per connection, like HAProxy's
`balance roundrobin` with `option redispatch`.

Each new client connection goes to the next backend; a backend that refuses the connection
(killed, not started yet) is skipped for the next one, so only connections already open to a
dying backend break with it. It runs its own event loop in a daemon thread, so tests and
benchmarks of any kind (sync or async) can use it. The deploy/ Compose file uses HAProxy.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import shutil
import socket
import subprocess
import threading
import time
from collections import Counter
from pathlib import Path

from bot.stack import free_port

CONNECT_TIMEOUT_SECONDS = 2.0


class RoundRobinBalancer:
    """`with RoundRobinBalancer([port, ...]) as balancer: balancer.url ...`."""

    def __init__(self, backend_ports: list[int], port: int | None = None) -> None:
        self.backends = list(backend_ports)
        self.port = port or free_port()
        self.connections: Counter[int] = Counter()  # backend port -> connections it was given
        self._next = itertools.count()
        self._loop = asyncio.new_event_loop()
        self._started = threading.Event()
        self._thread = threading.Thread(target=self._run, name="balancer", daemon=True)
        self._server: asyncio.Server | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> RoundRobinBalancer:
        self._thread.start()
        if not self._started.wait(10) or self._server is None:
            raise RuntimeError(f"the balancer did not listen on port {self.port}")
        return self

    def __exit__(self, *_: object) -> None:
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        self._server = self._loop.run_until_complete(
            asyncio.start_server(self._accept, "127.0.0.1", self.port)
        )
        self._started.set()
        self._loop.run_forever()
        self._server.close()

    async def _accept(
        self, client_in: asyncio.StreamReader, client_out: asyncio.StreamWriter
    ) -> None:
        backend = await self._connect()
        if backend is None:
            client_out.close()  # nobody answers: the client sees the connection close
            return
        backend_in, backend_out = backend
        await asyncio.gather(
            _pipe(client_in, backend_out), _pipe(backend_in, client_out), return_exceptions=True
        )

    async def _connect(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter] | None:
        start = next(self._next)
        for offset in range(len(self.backends)):
            port = self.backends[(start + offset) % len(self.backends)]
            try:
                connection = await asyncio.wait_for(
                    asyncio.open_connection("127.0.0.1", port), CONNECT_TIMEOUT_SECONDS
                )
            except (OSError, TimeoutError):
                continue
            self.connections[port] += 1
            return connection
        return None


async def _pipe(source: asyncio.StreamReader, target: asyncio.StreamWriter) -> None:
    """Copy bytes until either side closes; then close the other side too."""
    try:
        while data := await source.read(65536):
            target.write(data)
            await target.drain()
    finally:
        with contextlib.suppress(OSError, RuntimeError):
            target.close()


HAPROXY_CONFIG = """\
# Written by tests/cluster/balancer.py: round-robin per connection over local replicas.
global
    maxconn 4096
defaults
    mode {mode}
    timeout connect 2s
    timeout client 120s
    timeout server 120s
    # A replica that refuses the connection (killed, not started yet) is passed over.
    retries 3
    option redispatch 1
frontend clients
    bind 127.0.0.1:{port}
    default_backend replicas
backend replicas
{balancing}
{servers}
"""


class HAProxyBalancer:
    """The same balancer as `RoundRobinBalancer` (round-robin per TCP connection, a replica
    that refuses passed over) as a Debian HAProxy process: what deploy/ runs, and no Python
    copying every byte on the load generator's cores."""

    def __init__(
        self, backend_ports: list[int], folder: Path, port: int | None = None, mode: str = "tcp"
    ) -> None:
        self.backends = list(backend_ports)
        self.mode = mode  # "http" to balance on a request header (`backend_lines`)
        self.backend_lines = ["balance roundrobin"]
        self.port = port or free_port()
        self.config = folder / f"haproxy-{self.port}.cfg"
        self.log = folder / f"haproxy-{self.port}.log"
        self._process: subprocess.Popen[bytes] | None = None

    @staticmethod
    def available() -> bool:
        return shutil.which("haproxy") is not None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int:
        assert self._process is not None
        return self._process.pid

    def __enter__(self) -> HAProxyBalancer:
        servers = "\n".join(
            f"    server replica{n} 127.0.0.1:{port} check inter 1s fall 1 rise 1"
            for n, port in enumerate(self.backends, start=1)
        )
        balancing = "\n".join(f"    {line}" for line in self.backend_lines)
        self.config.write_text(
            HAPROXY_CONFIG.format(
                port=self.port, servers=servers, mode=self.mode, balancing=balancing
            )
        )
        haproxy = shutil.which("haproxy") or "haproxy"
        with self.log.open("ab") as log:
            self._process = subprocess.Popen(
                [haproxy, "-db", "-f", str(self.config)], stdout=log, stderr=subprocess.STDOUT
            )
        deadline = time.monotonic() + 10
        while not _listening(self.port):
            if self._process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"HAProxy did not listen on {self.port}: {self.log.read_text()}")
            time.sleep(0.05)
        return self

    def __exit__(self, *_: object) -> None:
        if self._process is not None and self._process.poll() is None:
            self._process.terminate()
            self._process.wait(timeout=10)


def _listening(port: int) -> bool:
    with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=0.5):
        return True
    return False

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
import threading
from collections import Counter

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

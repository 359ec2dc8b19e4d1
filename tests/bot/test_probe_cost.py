"""A health probe costs the gateway well under a millisecond or two of CPU, not a new client.

The gateway probes every Rasa server and the action server every 2 s (bot/health.py), and the
supervisor does the same. `httpx.get` built a new client on every call, loading every trusted
certificate into a TLS context even for plain HTTP: about 23 ms of CPU per probe, which was
nearly all of an idle gateway's CPU (27-32 ms per second in the cluster bench). Measured in
this thread's CPU time, which other work on the machine does not inflate as it does wall time.
"""

from __future__ import annotations

import time

from bot.health import rasa_outcome
from tests.bot.test_health import TOKEN, StatusServer

PROBES = 20
MOST_CPU_MS_PER_PROBE = 5.0  # measured: 0.8 ms with one client per probe, 23 ms with httpx.get


def test_a_probe_reuses_its_client_and_costs_little_cpu() -> None:
    with StatusServer() as rasa:
        probe = rasa_outcome(rasa.url, TOKEN)
        assert probe(5.0) == "up"  # the first call pays for anything built lazily
        started = time.thread_time()
        outcomes = [probe(5.0) for _ in range(PROBES)]
        cpu_ms = (time.thread_time() - started) * 1000 / PROBES
        answered = rasa.prompt_answers
    assert outcomes == ["up"] * PROBES
    assert answered == PROBES + 1  # every probe really reached the server
    assert cpu_ms < MOST_CPU_MS_PER_PROBE, f"{cpu_ms:.1f} ms of CPU per probe"

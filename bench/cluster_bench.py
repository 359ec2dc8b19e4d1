"""Two replicas of every role against today's single stack, under the same citizens; sizing.

- **single stack**: `learncity run --no-console` as deployed on one machine: one gateway, two
  Rasa servers (citizens kept on one by a hash of their id), one action server, SQLite.
- **two of each role**: tests/cluster/support.py: two gateways and two action servers behind a
  round-robin balancer, two Rasa servers sharing Rasa's lock store on Redis, PostgreSQL.

The same load for both (tests/cluster/load.py): web chat and Telegram citizens (the Bot API
stand-in, webhook mode) writing through the gateway(s), each waiting for the answer and
`--pause` seconds before the next message. Reported: answers per second, p50/p95 from
message to answer, lost and duplicated messages, CPU ms per message and memory per role
(psutil on every process of the role, with its children), the most PostgreSQL connections
seen, and the replicas each role needs for `--peak` messages per second.

Each set-up is first measured idle (`--idle-seconds`): the CPU its replicas use with nobody
writing (health probes, watchers) is a fixed cost per replica, and "above idle" is the CPU
per message once that is taken out.

With `--rate R1,R2,...` the citizens are an open loop instead (bench/cluster_sweep.py):
messages arrive at each fixed offered rate from a pool of `--citizens`, and the table says
the highest rate each set-up sustains with p95 ≤ `--p95-ms` and nothing lost or doubled.

    .venv/bin/python -m bench.cluster_bench [--seconds 60] [--only cluster]
    .venv/bin/python -m bench.cluster_bench --rate 10,20,30,40,54 --seconds 30
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import math
import os
import sys
import tempfile
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import psutil
from sqlalchemy import create_engine, text

from bench.assistant import bench_assistant
from bench.gateway_process import gateway_process
from bench.report import print_table, write_results
from tests.cluster.balancer import HAProxyBalancer
from tests.cluster.load import CitizenLoad
from tests.cluster.support import (
    REDIS_URL,
    TELEGRAM_SECRET,
    Cluster,
    running_cluster,
    trained_model,
)
from tests.fakes.telegram_api import FakeTelegramApi
from tests.fakes.wechat_api import FakeWeChatApi
from tests.faults.postgres import TemporaryPostgres
from tests.services import redis_unavailable

ROLES = ("gateway", "rasa", "actions")
# Also metered, not sized: this process (the citizens' load generator and, in the cluster, the
# test's balancers), the cluster's own PostgreSQL (the single stack's SQLite is in Rasa) and
# the Redis server the cluster uses (shared with anything else on the machine that uses it).
SUPPORT = ("bench", "postgres", "balancers", "redis")
CORE_BUSY_TARGET = 0.7  # plan a replica to be busy at most 70 % of a core at the peak


@dataclass
class RoleMeter:
    """CPU seconds and memory of the processes of each role (a process with its children).

    Counted per process: one that started during the window counts whole, and a role one of
    whose processes ended during it (a supervisor restarted a stalled Rasa server) is named in
    `ended`, since the CPU it used before it ended is lost; its figure is then a floor."""

    pids: dict[str, list[tuple[int, bool]]]  # role -> (pid, with its children)
    _cpu_before: dict[str, dict[tuple[int, float], float]] = field(default_factory=dict)
    ended: set[str] = field(default_factory=set)

    def _members(self, role: str) -> list[psutil.Process]:
        members = []
        for pid, with_children in self.pids[role]:
            with contextlib.suppress(psutil.NoSuchProcess):
                process = psutil.Process(pid)
                members.append(process)
                if with_children:
                    members.extend(process.children(recursive=True))
        return members

    def _cpu_by_process(self, role: str) -> dict[tuple[int, float], float]:
        """CPU seconds of each live process of `role`, keyed by (pid, start time)."""
        used = {}
        for member in self._members(role):
            with contextlib.suppress(psutil.NoSuchProcess):
                times = member.cpu_times()
                used[(member.pid, member.create_time())] = times.user + times.system
        return used

    def start(self) -> None:
        self._cpu_before = {role: self._cpu_by_process(role) for role in self.pids}
        self.ended = set()

    def cpu_used(self) -> dict[str, float]:
        used = {}
        for role in self.pids:
            before, now = self._cpu_before[role], self._cpu_by_process(role)
            if set(before) - set(now):
                self.ended.add(role)
            used[role] = sum(cpu - before.get(key, 0.0) for key, cpu in now.items())
        return used

    def memory_mb_per_replica(self) -> dict[str, float]:
        memory: dict[str, float] = {}
        for role, replicas in self.pids.items():
            rss = 0
            for member in self._members(role):
                with contextlib.suppress(psutil.NoSuchProcess):
                    rss += member.memory_info().rss
            memory[role] = round(rss / 2**20 / max(1, len(replicas)))
        return memory


class ConnectionSampler:
    """The most connections PostgreSQL had open to the database while the load ran."""

    def __init__(self, database_url: str) -> None:
        self.engine = create_engine(database_url)
        self.most = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def __enter__(self) -> ConnectionSampler:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join(timeout=10)
        self.engine.dispose()

    def _sample(self) -> None:
        query = text("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()")
        while not self._stop.wait(1.0):
            with contextlib.suppress(Exception), self.engine.connect() as connection:
                self.most = max(self.most, int(connection.execute(query).scalar() or 0) - 1)


async def _measure(
    url: str,
    database_url: str,
    telegram: FakeTelegramApi,
    meter: RoleMeter,
    args: argparse.Namespace,
) -> dict:
    load = CitizenLoad(
        url,
        database_url,
        telegram,
        web_citizens=args.web_citizens,
        telegram_citizens=args.telegram_citizens,
        pause_seconds=args.pause,
    )
    load_before = os.getloadavg()[0]
    # What the roles use with nobody writing (health probes, watchers, pools): a fixed cost
    # per replica per second, which a slow run divides over few messages.
    meter.start()
    await asyncio.sleep(args.idle_seconds)
    idle = meter.cpu_used()
    async with load.running():
        await load.until_answered(args.web_citizens + args.telegram_citizens)  # warm
        meter.start()
        replied_before, answered_before = load.answered, load.outcomes["answered"]
        await asyncio.sleep(args.seconds)
        cpu = meter.cpu_used()
        replied = load.answered - replied_before  # every turn, "try again" included
        answered = load.outcomes["answered"] - answered_before
    report = await load.settled()
    idle_per_second = {role: s / args.idle_seconds for role, s in idle.items()}
    return {
        **report.as_dict(),
        # In the measured window only (the report's own rate covers the warm-up too).
        "answered_per_second": round(answered / args.seconds, 1),
        "cpu_ms_per_message": {
            role: round(s * 1000 / max(1, replied), 1) for role, s in cpu.items()
        },
        "idle_cpu_ms_per_second_per_replica": {
            role: round(used * 1000 / len(meter.pids[role]), 1)
            for role, used in idle_per_second.items()
        },
        # Per message once the idle cost of the same window is taken out.
        "cpu_ms_per_message_above_idle": {
            role: round(
                max(0.0, s - idle_per_second[role] * args.seconds) * 1000 / max(1, replied), 1
            )
            for role, s in cpu.items()
        },
        "memory_mb_per_replica": meter.memory_mb_per_replica(),
        "cpu_floor_only": sorted(meter.ended),  # a process of these roles ended in the window
        "load_average_before_after": [round(load_before, 1), round(os.getloadavg()[0], 1)],
        "silent_examples": report.silent[:5],
        "doubled_examples": report.doubled[:5],
    }


@contextlib.contextmanager
def single_stack(
    root: Path, telegram: FakeTelegramApi, model: Path
) -> Iterator[tuple[str, str, RoleMeter]]:
    """What `learncity run` starts on one machine (the stack of the Telegram bench): the
    supervisor's two Rasa servers and action server on SQLite, the gateway in its own process
    with Telegram in webhook mode. Its gateway URL, database URL and meter."""
    from bot.stack import free_port

    source = argparse.Namespace(rasa_servers=2, model=model, rasa_url="", fake_rasa=False)
    with bench_assistant(root, source) as assistant:
        port = free_port()
        env = assistant.gateway_environment(
            root,
            RASA_SERVERS="2",
            TELEGRAM_BOT_TOKEN=telegram.token,
            TELEGRAM_API_BASE_URL=telegram.base_url,
            TELEGRAM_WEBHOOK_URL=f"http://127.0.0.1:{port}/telegram/webhook",
            TELEGRAM_WEBHOOK_SECRET=TELEGRAM_SECRET,
            LEARNCITY_TODAY="2026-12-01",
        )
        env.pop("REDIS_URL", None)
        factory = "bench.telegram_bench:gateway_from_environment"
        with gateway_process(factory, env, port, root / "gateway.log") as gateway:
            pids: dict[str, list[tuple[int, bool]]] = {
                "gateway": [(gateway.pid, True)],
                "bench": [(os.getpid(), False)],
            }
            for name, pid in assistant.processes.items():
                role = "actions" if name == "actions" else "rasa"
                pids.setdefault(role, []).append((pid, True))
            yield gateway.url, assistant.database_url, RoleMeter(pids)


@contextlib.contextmanager
def two_of_each(
    root: Path, telegram: FakeTelegramApi, wechat: FakeWeChatApi, model: Path, balancer: str
) -> Iterator[tuple[Cluster, RoleMeter]]:
    with running_cluster(root, telegram, wechat, model, balancer=balancer) as cluster:
        yield cluster, cluster_meter(cluster)


def cluster_meter(cluster: Cluster) -> RoleMeter:
    """A meter of the cluster's roles, this process, its balancers and its PostgreSQL."""
    pids = {role: [(process.pid, True) for process in cluster.of_role(role)] for role in ROLES}
    pids["bench"] = [(os.getpid(), False)]
    if isinstance(cluster.gateways, HAProxyBalancer) and isinstance(
        cluster.actions, HAProxyBalancer
    ):
        pids["balancers"] = [(cluster.gateways.pid, False), (cluster.actions.pid, False)]
    postgres = _listening_on(int(cluster.database_url.rsplit(":", 1)[1].split("/")[0]))
    if postgres is not None:
        pids["postgres"] = [(postgres, True)]
    redis_server = _listening_on(urlsplit(REDIS_URL).port or 6379)
    if redis_server is not None:
        pids["redis"] = [(redis_server, False)]
    return RoleMeter(pids)


def _listening_on(port: int) -> int | None:
    """The process listening on this local TCP port (the cluster's PostgreSQL)."""
    for connection in psutil.net_connections(kind="tcp"):
        if connection.status == psutil.CONN_LISTEN and connection.laddr.port == port:
            return connection.pid
    return None


def _interleaved(
    telegram: FakeTelegramApi, wechat: FakeWeChatApi, model: Path, args: argparse.Namespace
) -> dict[str, dict]:
    """Both set-ups running at once (the idle one costs little), measured in turn `rounds`
    times: on a machine shared with other work, each pair of windows sees about the same
    background load, which separate runs minutes apart do not. Each round's result, and for
    each set-up the round with the median answers per second."""
    results: dict[str, dict] = {}
    with contextlib.ExitStack() as stack:
        single_folder = stack.enter_context(tempfile.TemporaryDirectory(prefix="bench-single-"))
        url, database_url, single_meter = stack.enter_context(
            single_stack(Path(single_folder), telegram, model)
        )
        cluster_folder = stack.enter_context(tempfile.TemporaryDirectory(prefix="bench-cluster-"))
        cluster, cluster_meter = stack.enter_context(
            two_of_each(Path(cluster_folder), telegram, wechat, model, args.balancer)
        )
        for number in range(1, args.rounds + 1):
            results[f"single stack, round {number}"] = asyncio.run(
                _measure(url, database_url, telegram, single_meter, args)
            )
            with ConnectionSampler(cluster.database_url) as connections:
                measured = asyncio.run(
                    _measure(cluster.url, cluster.database_url, telegram, cluster_meter, args)
                )
            measured["postgres_connections_most"] = connections.most
            results[f"two of each role, round {number}"] = measured
    for name in ("single stack", "two of each role"):
        rounds = sorted(
            (result for key, result in results.items() if key.startswith(name)),
            key=lambda result: result["answered_per_second"],
        )
        results[f"median: {name}"] = rounds[len(rounds) // 2]
    return results


def projection(result: dict, peak: float) -> dict[str, dict[str, float]]:
    """Replicas per role for `peak` messages a second: CPU at the peak over CORE_BUSY_TARGET
    of a core each (a Rasa server, a gateway and an action server each use one core at most)."""
    planned = {}
    for role in ROLES:
        cores = peak * result["cpu_ms_per_message"][role] / 1000
        replicas = max(2, math.ceil(cores / CORE_BUSY_TARGET))  # two: one may fail
        planned[role] = {
            "cores_at_peak": round(cores, 2),
            "replicas": replicas,
            "memory_gb": round(replicas * result["memory_mb_per_replica"][role] / 1024, 1),
        }
    return planned


def main(argv: list[str] | None = None) -> int:
    from bench import cluster_sweep  # it builds on this module

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=60.0, help="measured load, after warm-up")
    parser.add_argument("--web-citizens", type=int, default=20)
    parser.add_argument("--telegram-citizens", type=int, default=60)
    parser.add_argument(
        "--pause", type=float, default=1.0, help="seconds between a citizen's messages"
    )
    parser.add_argument(
        "--idle-seconds", type=float, default=10.0, help="roles measured idle before the load"
    )
    parser.add_argument("--peak", type=float, default=100.0, help="messages a second to plan for")
    parser.add_argument("--only", choices=["single", "cluster"], help="run one configuration")
    parser.add_argument(
        "--rounds",
        type=int,
        default=1,
        help="with both set-ups: start both, then measure them in turn this many times",
    )
    parser.add_argument(
        "--balancer",
        choices=["haproxy", "python"],
        default="haproxy" if HAProxyBalancer.available() else "python",
        help="the cluster's balancer: Debian's HAProxy (default when installed, as deploy/ "
        "runs) or tests/cluster/balancer.py's, a thread of this process",
    )
    parser.add_argument(
        "--model",
        type=Path,
        help="trained model both stacks serve (default: the current data's if trained, else "
        "the newest trained one)",
    )
    open_loop = parser.add_argument_group("open loop (--rate)")
    open_loop.add_argument(
        "--rate",
        type=cluster_sweep.parse_rates,
        help="offered messages a second, comma-separated (e.g. 10,20,30,40,54): an open-loop "
        "sweep instead of the closed-loop citizens",
    )
    open_loop.add_argument(
        "--citizens", type=int, default=200, help="the pool the offered messages come from"
    )
    open_loop.add_argument(
        "--warmup", type=float, default=5.0, help="seconds at each rate before the window"
    )
    open_loop.add_argument(
        "--p95-ms", type=float, default=500.0, help="the p95 a rate must keep to be sustained"
    )
    open_loop.add_argument(
        "--every-rate",
        action="store_true",
        help="measure the higher rates of a set-up that missed one (default: skip them)",
    )
    args = parser.parse_args(argv)
    reasons = [
        reason
        for reason in (redis_unavailable(REDIS_URL), TemporaryPostgres.unavailable())
        if reason
    ]
    if reasons and args.only != "single":
        print(f"error: the cluster needs {'; '.join(reasons)}", file=sys.stderr)
        return 2
    model = args.model or trained_model()
    results: dict[str, dict] = {"model": {"file": model.name}}
    if args.rate:
        return _open_loop(model, args)
    with FakeTelegramApi() as telegram, FakeWeChatApi() as wechat:
        interleaved = args.rounds > 1 and args.only is None
        if interleaved:
            results.update(_interleaved(telegram, wechat, model, args))
        elif args.only in (None, "single"):
            with (
                tempfile.TemporaryDirectory(prefix="bench-single-") as folder,
                single_stack(Path(folder), telegram, model) as (url, database_url, meter),
            ):
                results["single stack"] = asyncio.run(
                    _measure(url, database_url, telegram, meter, args)
                )
        if not interleaved and args.only in (None, "cluster"):
            with (
                tempfile.TemporaryDirectory(prefix="bench-cluster-") as folder,
                two_of_each(Path(folder), telegram, wechat, model, args.balancer) as (
                    cluster,
                    meter,
                ),
            ):
                with ConnectionSampler(cluster.database_url) as connections:
                    measured = asyncio.run(
                        _measure(cluster.url, cluster.database_url, telegram, meter, args)
                    )
                measured["postgres_connections_most"] = connections.most
                results["two of each role"] = measured
    rows = [
        [
            name,
            result["answered_per_second"],
            result["p50_ms"],
            result["p95_ms"],
            result["lost"],
            result["duplicated"],
            result["try_again"],
            " / ".join(
                ("≥" if role in result.get("cpu_floor_only", []) else "")
                + f"{result['cpu_ms_per_message'][role]:g}"
                for role in ROLES
            ),
            " / ".join(f"{result['cpu_ms_per_message_above_idle'][role]:g}" for role in ROLES),
            " / ".join(f"{result['idle_cpu_ms_per_second_per_replica'][role]:g}" for role in ROLES),
            " / ".join(f"{result['memory_mb_per_replica'][role]:g}" for role in ROLES),
            " → ".join(str(x) for x in result["load_average_before_after"]),
        ]
        for name, result in results.items()
        if name != "model" and not name.startswith("median")
    ]
    print_table(
        f"{args.web_citizens} web + {args.telegram_citizens} Telegram citizens, pause "
        f"{args.pause} s, {args.seconds:.0f} s measured, {os.cpu_count()} cores",
        ["stack", "answered/s", "p50 ms", "p95 ms", "lost", "duplicated", "try again",
         "CPU ms/msg gateway/rasa/actions", "above idle", "idle ms/s per replica",
         "MB per replica gateway/rasa/actions", "load 1 min"],
        rows,
    )  # fmt: skip
    print("(≥: a process of that role ended during the window, e.g. restarted: a floor only)")
    for name, result in results.items():
        if name.startswith("median"):
            continue
        support = {
            role: result["cpu_ms_per_message"][role]
            for role in SUPPORT
            if role in result.get("cpu_ms_per_message", {})
        }
        if support:
            print(
                f"{name}: CPU ms per message also in "
                + ", ".join(f"{role} {ms:g}" for role, ms in support.items())
            )
    summary: dict[str, object] = {"arguments": vars(args), "results": results}
    cluster_result = results.get("two of each role") or results.get("median: two of each role")
    if cluster_result is not None:
        planned = projection(cluster_result, args.peak)
        summary["projection"] = {"peak_messages_per_second": args.peak, **planned}
        _print_projection(planned, args.peak)
    print(f"\nresults: {write_results('cluster', summary)}")
    return 0


def _open_loop(model: Path, args: argparse.Namespace) -> int:
    """`--rate`: the sweep, its table, the highest rate each set-up sustained, the projection
    from the cluster's CPU per message at its highest sustained rate (else its lowest rate)."""
    from bench import cluster_sweep

    with FakeTelegramApi() as telegram, FakeWeChatApi() as wechat:
        results = cluster_sweep.sweep(telegram, wechat, model, args)
    cluster_sweep.print_sweep(results, args)
    best = cluster_sweep.highest_sustained(results)
    summary: dict[str, object] = {
        "arguments": vars(args),
        "model": {"file": model.name},
        "results": results,
        "highest_sustained_per_second": best,
    }
    cluster_rates = [r for r in results.values() if r["set_up"] == "two of each role"]
    if cluster_rates:
        chosen = next(
            (r for r in cluster_rates if r["offered_per_second"] == best["two of each role"]),
            cluster_rates[0],
        )
        planned = projection(chosen, args.peak)
        summary["projection"] = {
            "peak_messages_per_second": args.peak,
            "from_offered_per_second": chosen["offered_per_second"],
            **planned,
        }
        _print_projection(planned, args.peak)
    print(f"\nresults: {write_results('cluster-open-loop', summary)}")
    return 0


def _print_projection(planned: dict[str, dict[str, float]], peak: float) -> None:
    print_table(
        f"replicas for a peak of {peak:g} messages a second (each at most "
        f"{CORE_BUSY_TARGET:.0%} of a core, at least two)",
        ["role", "cores at peak", "replicas", "memory GB"],
        [[role, p["cores_at_peak"], p["replicas"], p["memory_gb"]] for role, p in planned.items()],
    )


if __name__ == "__main__":
    sys.exit(main())

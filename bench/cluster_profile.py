"""Where each role of the cluster spends its CPU under load: py-spy on one replica of each.

Starts two of each role (tests/cluster/support.py, HAProxy in front), drives the open-loop
citizens of tests/cluster/offered_load.py at `--rate` messages a second and, after
`--warmup` seconds, samples one gateway, one Rasa server and one action server with py-spy
(a sampling profiler: it reads the process from outside, so the role runs unchanged) for
`--seconds`. Without `--native` py-spy counts only threads it sees running Python; with it
the sampled process stops at each sample (a Rasa server fell far behind at 20/s) and waiting
threads count too, so use it for one role's C frames, not for rates. Prints, per role, the functions with the most samples on CPU, by own time and
with what they call, and the CPU ms per message of every role from /proc (as the sweep).

py-spy is not a dependency of the project: `.venv/bin/pip install py-spy`, and run as a
user allowed to trace the roles (root, or ptrace_scope 0).

    .venv/bin/python -m bench.cluster_profile --rate 30 --seconds 20 [--out /tmp/profiles]
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

from bench.cluster_bench import ROLES, SUPPORT, two_of_each
from tests.cluster.offered_load import OfferedLoad
from tests.cluster.support import trained_model
from tests.fakes.telegram_api import FakeTelegramApi
from tests.fakes.wechat_api import FakeWeChatApi


def _py_spy() -> str:
    found = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
    if not Path(found).exists():
        raise SystemExit("error: py-spy is not installed: .venv/bin/pip install py-spy")
    return found


def summarise(collapsed: Path, top: int) -> str:
    """The functions with most samples in py-spy's collapsed stacks (`--format raw`)."""
    own: Counter[str] = Counter()
    total: Counter[str] = Counter()
    samples = 0
    for line in collapsed.read_text(errors="replace").splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        count = int(count_text)
        samples += count
        frames = [frame for frame in stack.split(";") if frame]
        if not frames:
            continue
        own[frames[-1]] += count
        for frame in set(frames):
            total[frame] += count
    lines = [f"{samples} samples on CPU"]
    lines.append("  own time:")
    lines += [f"    {100 * n / samples:5.1f} % {name}" for name, n in own.most_common(top)]
    lines.append("  with callees:")
    lines += [f"    {100 * n / samples:5.1f} % {name}" for name, n in total.most_common(top)]
    return "\n".join(lines)


async def _load_and_profile(
    url: str, database_url: str, telegram: FakeTelegramApi, pids: dict[str, int], args
) -> tuple[dict[str, Path], dict[str, float], int]:
    web = args.citizens // 4
    load = OfferedLoad(
        url,
        database_url,
        telegram,
        web_citizens=web,
        telegram_citizens=args.citizens - web,
        rate=args.rate,
    )
    outputs = {role: args.out / f"{role}.txt" for role in pids}
    async with load.running():
        await asyncio.sleep(args.warmup)
        logs = {role: (args.out / f"{role}.py-spy.log").open("wb") for role in pids}
        args.meter.start()
        since = time.monotonic()
        spies = [
            await asyncio.create_subprocess_exec(
                _py_spy(), "record", "--pid", str(pid), "--duration", str(int(args.seconds)),
                "--rate", "100", "--format", "raw", "--output", str(outputs[role]),
                # py-spy reads C frames only while the process is stopped for each sample
                *(["--native"] if args.native else ["--nonblocking"]),
                stdout=subprocess.DEVNULL, stderr=logs[role],
            )
            for role, pid in pids.items()
        ]  # fmt: skip
        await asyncio.gather(*(spy.wait() for spy in spies))
        for log in logs.values():
            log.close()
        cpu = args.meter.cpu_used()
        until = time.monotonic()
    window = load.window(since, until)
    print(f"profiled window: {window.as_dict()}")
    return outputs, cpu, window.answered


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rate", type=float, default=30.0, help="messages a second offered")
    parser.add_argument("--seconds", type=float, default=20.0, help="profiled, after warm-up")
    parser.add_argument("--warmup", type=float, default=15.0)
    parser.add_argument("--citizens", type=int, default=200)
    parser.add_argument("--top", type=int, default=25, help="functions listed per role")
    parser.add_argument("--native", action="store_true", help="C frames too (py-spy --native)")
    parser.add_argument("--out", type=Path, default=None, help="keep the collapsed stacks here")
    parser.add_argument("--model", type=Path, default=None)
    args = parser.parse_args(argv)
    args.out = args.out or Path(tempfile.mkdtemp(prefix="cluster-profile-"))
    args.out.mkdir(parents=True, exist_ok=True)
    model = args.model or trained_model()
    with (
        FakeTelegramApi() as telegram,
        FakeWeChatApi() as wechat,
        tempfile.TemporaryDirectory(prefix="profile-cluster-") as folder,
        two_of_each(Path(folder), telegram, wechat, model, "haproxy") as (cluster, meter),
    ):
        args.meter = meter
        pids = {role: _role_pid(cluster, role) for role in ROLES}
        outputs, cpu, answered = asyncio.run(
            _load_and_profile(cluster.url, cluster.database_url, telegram, pids, args)
        )
    for role, path in outputs.items():
        if not path.exists():
            log = (args.out / f"{role}.py-spy.log").read_text(errors="replace").strip()
            print(f"\n== {role} (pid {pids[role]}): py-spy recorded nothing: {log}")
            continue
        print(f"\n== {role} (pid {pids[role]}): {summarise(path, args.top)}")
    per_message = {
        role: round(seconds * 1000 / max(1, answered), 1) for role, seconds in cpu.items()
    }
    shown = [role for role in (*ROLES, *SUPPORT) if role in per_message]
    print("\nCPU ms per message (whole run's answers):", per_message, "roles:", shown)
    print(f"collapsed stacks in {args.out}")
    return 0


def _role_pid(cluster, role: str) -> int:
    """The process doing the role's work: a Rasa role is `learncity serve rasa` and its child."""
    import psutil

    process = psutil.Process(cluster.of_role(role)[0].pid)
    children = process.children(recursive=True)
    return children[0].pid if children else process.pid


if __name__ == "__main__":
    sys.exit(main())

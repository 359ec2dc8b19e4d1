"""Fault injection on the running stack's processes, under a small load of web-chat citizens.

`kill -9` of the action server and of Rasa, and SIGSTOP of Rasa (a stall): citizens get a
normal answer or the kind "try again", never an error or silence; the supervisor notices,
clears the old process tree, starts a new one, and the stack answers again. Time to recover
is printed (`pytest -s`) and checked against a generous bound. Last, SIGTERM stops it all.
The tests run in file order on one `learncity run` (one Rasa start costs minutes here); the
session's shared assistant (tests/conftest.py) is never killed, so no other test waits for
its Rasa to load again.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import socket
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import psutil
import pytest

from bot.kind_replies import TRY_AGAIN
from bot.stack import free_port
from bot.supervisor import ManagedProcess, ServiceStartError
from tests.bot.test_run_command import RunningCommand, start_run
from tests.waiting import wait_until

QUESTION = "where can I learn pottery?"
STALL_SECONDS = 12  # SUPERVISOR_STALL_SECONDS for this stack: a stall is noticed quickly


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningCommand]:
    """One `learncity run` for the module: every fault below is recovered from in turn."""
    data_dir: Path = tmp_path_factory.mktemp("faults")
    running = start_run(data_dir, SUPERVISOR_STALL_SECONDS=str(STALL_SECONDS))
    yield running
    children = running.children()
    running.process.terminate()
    try:
        running.process.wait(timeout=60)
    finally:
        running.process.kill()
        for child in children:
            if child.is_running():
                child.kill()


@dataclass
class Load:
    """A few citizens asking in a loop; every outcome is kept with the time it was sent."""

    base: str
    citizens: int = 3
    outcomes: list[tuple[float, str]] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)
    _threads: list[threading.Thread] = field(default_factory=list)

    def __enter__(self) -> Load:
        for _ in range(self.citizens):
            thread = threading.Thread(target=self._citizen, args=(uuid.uuid4().hex,), daemon=True)
            thread.start()
            self._threads.append(thread)
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=60)

    def _citizen(self, session_id: str) -> None:
        with httpx.Client(timeout=60) as client:
            while not self._stop.is_set():
                sent = time.monotonic()
                self.outcomes.append((sent, self._ask(client, session_id)))
                self._stop.wait(0.3)  # under the flood limit, even when "try again" is instant

    def _ask(self, client: httpx.Client, session_id: str) -> str:
        try:
            response = client.post(
                f"{self.base}/api/chat", json={"session_id": session_id, "text": QUESTION}
            )
        except httpx.HTTPError as error:
            return f"gateway error: {error!r}"
        if response.status_code != 200:
            return f"HTTP {response.status_code}"
        texts = [reply.get("text") for reply in response.json()["replies"]]
        if texts == [TRY_AGAIN["en"]]:
            return "try again"
        return "answer" if response.json()["replies"] else "silence"

    def answered_after(self, moment: float) -> float | None:
        """When the first question sent after `moment` got a normal answer."""
        times = [
            sent for sent, outcome in list(self.outcomes) if sent > moment and outcome == "answer"
        ]
        return min(times) if times else None

    def wait_answering(self, timeout: float = 120) -> None:
        """Until every citizen was answered once, normally at least once: faults strike under load."""
        wait_until(
            lambda: "answer" in self.kinds() and len(self.outcomes) >= self.citizens,
            timeout,
            "the citizens' first answers",
            interval=0.1,
            details=self.kinds,
        )

    def kinds(self) -> set[str]:
        return {outcome for _, outcome in list(self.outcomes)}


def _server(stack: RunningCommand, marker: str) -> psutil.Process:
    """The child of `learncity run` whose command line holds `marker`."""
    for child in stack.children():
        if marker in " ".join(child.cmdline()):
            return child
    raise AssertionError(f"no {marker} process under learncity run")


def _rasa(stack: RunningCommand) -> psutil.Process:
    for child in stack.children():
        command = child.cmdline()
        if "run" in command and "--enable-api" in command:
            return child
    raise AssertionError("no Rasa server under learncity run")


def _recover(stack: RunningCommand, load: Load, struck_at: float, old_pid: int, find) -> float:
    """Wait until a new process answers and a citizen gets a normal answer; seconds taken."""

    def recovered() -> float | None:
        assert stack.process.poll() is None, stack.output()
        new_pid = None
        with contextlib.suppress(AssertionError, psutil.Error):
            new_pid = find(stack).pid
        answered = load.answered_after(struck_at + 1.0)
        if new_pid not in (None, old_pid) and answered is not None:
            ready = httpx.get(f"{stack.base}/health/ready", timeout=10)
            if ready.status_code == 200:
                return answered - struck_at
        return None

    return wait_until(
        recovered,
        struck_at + 400 - time.monotonic(),
        "a new process and a normal answer to a citizen",
        interval=0.5,
        details=lambda: stack.output()[-3000:],
    )


def _chat(stack: RunningCommand, text: str) -> dict:
    """One turn of a new web-chat citizen; the gateway's JSON answer."""
    response = httpx.post(
        f"{stack.base}/api/chat", json={"session_id": uuid.uuid4().hex, "text": text}, timeout=60
    )
    assert response.status_code == 200, response.text
    return response.json()


def _texts(stack: RunningCommand, text: str) -> list[str]:
    return [reply.get("text") for reply in _chat(stack, text)["replies"]]


def _assert_no_error_reached_a_citizen(load: Load) -> None:
    assert load.kinds() <= {"answer", "try again"}, load.kinds()
    assert "answer" in load.kinds()


_WORKER = """
import socket, sys, time
listener = socket.socket()
listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
listener.bind(("127.0.0.1", int(sys.argv[1])))
listener.listen()
time.sleep(600)
"""
_PARENT = """
import subprocess, sys, time
worker = subprocess.Popen([sys.executable, "-c", sys.argv[1], sys.argv[2]])
print(worker.pid, flush=True)
time.sleep(600)
"""


def test_a_restart_clears_the_whole_tree_even_after_the_parent_was_killed(tmp_path: Path) -> None:
    """rasa-sdk's manager killed with -9 left its worker holding the port, and every restart
    crash-looped on "address in use"; `kill_tree` clears the group, orphans included."""
    port = free_port()
    log = tmp_path / "tree.log"
    parent = ManagedProcess(
        name="parent with a worker",
        command=[sys.executable, "-c", _PARENT, _WORKER, str(port)],
        probe=lambda _timeout: True,
        log_file=log,
        port=port,
    )
    parent.start()
    assert parent.process is not None
    wait_until(lambda: log.read_text().strip(), 60, "the worker to start", interval=0.1)
    worker = psutil.Process(int(log.read_text().split()[0]))
    wait_until(
        lambda: not parent.wait_port_free(timeout=0), 60, "the worker to listen", interval=0.1
    )
    parent.process.kill()  # the parent dies; its worker is orphaned, still on the port
    parent.process.wait()
    assert worker.is_running() and worker.status() != psutil.STATUS_ZOMBIE
    assert not parent.wait_port_free(timeout=0.5)
    parent.kill_tree()
    worker.wait(timeout=10)
    assert not worker.is_running()
    assert parent.wait_port_free(timeout=5)


def test_a_strangers_server_answering_on_our_port_is_never_taken_for_ours(tmp_path: Path) -> None:
    """The old `make run` found 5005/5055 answered by orphans, called them "up" and used them
    while its own servers crash-looped. Now "up" also needs our own child on the port."""
    with socket.socket() as stranger:
        stranger.bind(("127.0.0.1", 0))
        stranger.listen()
        port = stranger.getsockname()[1]
        ours = ManagedProcess(
            name="server that lost the port",
            command=[sys.executable, "-c", "import time; time.sleep(2)"],  # never binds
            probe=lambda _timeout: True,  # the stranger answers every probe
            log_file=tmp_path / "ours.log",
            port=port,
            startup_timeout=30,
        )
        ours.start()
        with pytest.raises(ServiceStartError, match="exited with code 0 while starting"):
            ours.wait_healthy()


def test_killed_action_server_is_replaced_and_citizens_get_try_again_at_worst(
    stack: RunningCommand,
) -> None:
    server = _server(stack, "bot.action_server")
    tree = [server, *server.children(recursive=True)]
    with Load(stack.base) as load:
        load.wait_answering()
        struck_at = time.monotonic()
        os.kill(tree[-1].pid, signal.SIGKILL)  # its worker, if it had one; else the server itself
        seconds = _recover(
            stack, load, struck_at, server.pid, lambda s: _server(s, "bot.action_server")
        )
    print(f"\naction server kill -9: recovered in {seconds:.1f} s; outcomes {load.kinds()}")
    _assert_no_error_reached_a_citizen(load)
    assert "action server exited (code -9); restarting" in stack.output()
    assert not any(p.is_running() and p.status() != psutil.STATUS_ZOMBIE for p in tree)
    assert seconds < 120


def test_killed_rasa_is_replaced_and_citizens_get_try_again_at_worst(
    stack: RunningCommand,
) -> None:
    rasa = _rasa(stack)
    with Load(stack.base) as load:
        load.wait_answering()
        struck_at = time.monotonic()
        rasa.kill()
        # While Rasa is gone (loading a model again takes far longer than these two turns),
        # each citizen is told "try again" in the language they wrote in.
        while_down = [_texts(stack, "我想学Python"), _texts(stack, "where can I learn pottery?")]
        seconds = _recover(stack, load, struck_at, rasa.pid, _rasa)
    print(f"\nRasa kill -9: recovered in {seconds:.1f} s; outcomes {load.kinds()}")
    _assert_no_error_reached_a_citizen(load)
    assert while_down == [[TRY_AGAIN["zh"]], [TRY_AGAIN["en"]]]
    # Every restart reaches the operator's log, even right after another server's.
    assert "Rasa server exited (code -9); restarting" in stack.output()
    assert "try again" in load.kinds()
    assert seconds < 400
    recovered = _chat(stack, "我想学Python")
    cards = [card["name"] for reply in recovered["replies"] for card in reply["cards"]]
    assert any("python" in name.lower() for name in cards), recovered


def test_stalled_rasa_is_detected_killed_and_restarted(stack: RunningCommand) -> None:
    rasa = _rasa(stack)
    # Until the supervisor has seen this Rasa (restarted by the test before) answer a probe,
    # a silence counts as a slow start (minutes), not a stall: strike once it has.
    seen_up = re.compile(rf"Rasa server is up( again)? \(pid {rasa.pid}\)")
    wait_until(
        lambda: seen_up.search(stack.output()), 400, f"the supervisor to see Rasa {rasa.pid} up"
    )
    with Load(stack.base) as load:
        load.wait_answering()
        struck_at = time.monotonic()
        rasa.suspend()  # SIGSTOP: the process exists, holds its port, and answers nothing
        seconds = _recover(stack, load, struck_at, rasa.pid, _rasa)
    print(f"\nRasa SIGSTOP: detected and recovered in {seconds:.1f} s; outcomes {load.kinds()}")
    _assert_no_error_reached_a_citizen(load)
    assert not psutil.pid_exists(rasa.pid) or rasa.status() == psutil.STATUS_ZOMBIE
    assert "stalled" in stack.output() or "answered no health probe" in stack.output()
    assert seconds < 400


def test_sigterm_stops_every_child_and_exits_zero(stack: RunningCommand) -> None:
    """Last: what systemd and container runtimes send, to the stack that survived the above."""
    children = stack.children()
    assert len(children) >= 2, "Rasa and the action server run as their own processes"
    started = time.monotonic()
    stack.process.send_signal(signal.SIGTERM)
    exit_code = stack.process.wait(timeout=90)
    print(f"\nSIGTERM: learncity run exited {exit_code} in {time.monotonic() - started:.1f} s")
    assert exit_code == 0, stack.output()[-3000:]
    gone, alive = psutil.wait_procs(children, timeout=20)
    assert [p.pid for p in alive] == [], "children left behind after SIGTERM"

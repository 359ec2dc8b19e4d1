"""One child process: its own process group, dead with its parent, probed, stopped, cleared.

- `start()` puts the child in a new session (so stopping it reaches its whole group) and sets
  `PR_SET_PDEATHSIG`: the kernel sends it SIGKILL if the thread that started it dies, so even a
  `kill -9` of `learncity run` leaves no orphan on 5005/5055. The kernel ties the signal to
  the starting *thread*: start and stop a child from a thread that outlives it.
- `kill_tree()` SIGKILLs the group and every descendant found, orphans included: a killed
  parent's worker can no longer keep the port and make every restart fail.
- `listens()` tells our own child on the port from a stranger answering there.
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import logging
import os
import signal
import socket
import subprocess
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

import psutil

from core.settings import REPOSITORY_ROOT

logger = logging.getLogger(__name__)

PROBE_TIMEOUT_SECONDS = 5.0
_PR_SET_PDEATHSIG = 1
# Looked up before any fork, so the child only calls it; None where there is no prctl (not Linux).
_PRCTL = getattr(ctypes.CDLL(None, use_errno=True), "prctl", None)

Probe = Callable[[float], bool]


class ServiceStartError(RuntimeError):
    """A managed process did not become healthy; the message names its log file."""


class PortInUseError(ServiceStartError):
    """A port the assistant needs is taken by another program; the message names it."""


def ensure_ports_free(ports: Iterable[tuple[str, str, int]]) -> None:
    """Refuse to start when any `(name, interface, port)` is taken, naming the port."""
    for name, interface, port in ports:
        with socket.socket() as sock:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as the servers do
            try:
                sock.bind((interface, port))
            except OSError as error:
                if error.errno != errno.EADDRINUSE:
                    raise
                raise PortInUseError(
                    f"port {port} ({name}) is already in use on {interface}: another program "
                    f"(perhaps an earlier learncity) listens there. Stop it, or choose another "
                    f"port in the settings."
                ) from None


def _die_with_parent(parent_pid: int) -> Callable[[], None] | None:
    if _PRCTL is None:
        return None

    def preexec() -> None:
        _PRCTL(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        if os.getppid() != parent_pid:  # the parent died before prctl took effect
            os.kill(os.getpid(), signal.SIGKILL)

    return preexec


@dataclass
class ManagedProcess:
    """One child process with a real-path health probe and a log file."""

    name: str
    command: list[str]
    probe: Probe
    log_file: Path
    env: dict[str, str] = field(default_factory=lambda: dict(os.environ))
    port: int | None = None
    interface: str = "127.0.0.1"
    startup_timeout: float = 400.0  # Rasa took 165 s to load on a shared, busy two-core machine
    process: subprocess.Popen[bytes] | None = None
    restarts: int = 0

    def start(self) -> None:
        self.log_file.parent.mkdir(parents=True, exist_ok=True)
        with self.log_file.open("ab") as log:
            self.process = subprocess.Popen(
                self.command,
                cwd=REPOSITORY_ROOT,
                env=self.env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own group: we stop it (and its children) ourselves
                preexec_fn=_die_with_parent(os.getpid()),
            )
        logger.info("started %s (pid %s), log: %s", self.name, self.process.pid, self.log_file)

    def is_running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def is_healthy(self, timeout: float = PROBE_TIMEOUT_SECONDS) -> bool:
        """True when the real path answers (see `rasa_probe`, `action_server_probe`)."""
        return self.probe(timeout)

    def wait_healthy(self) -> None:
        deadline = time.monotonic() + self.startup_timeout
        while time.monotonic() < deadline:
            if not self.is_running():
                raise ServiceStartError(
                    f"{self.name} exited with code {self.process.returncode if self.process else '?'}"
                    f" while starting; see {self.log_file}"
                )
            if self.is_healthy() and self.listens():
                logger.info(
                    "%s is up (pid %s)", self.name, self.process.pid if self.process else "?"
                )
                return
            time.sleep(0.5)
        raise ServiceStartError(
            f"{self.name} was not healthy within {self.startup_timeout:.0f} s; see {self.log_file}"
        )

    def stop(self, timeout: float = 15.0) -> None:
        """SIGTERM to the whole group (continued first, in case it was stopped), then SIGKILL."""
        if self.process is None:
            return
        tree = self._tree()
        was_running = self.is_running()
        if was_running:
            _signal_group(self.process.pid, signal.SIGCONT)
            _signal_group(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                logger.warning("%s ignored SIGTERM for %.0f s; killing it", self.name, timeout)
        self.kill_tree(tree)
        if was_running or tree:
            logger.info("stopped %s", self.name)

    def kill_tree(self, tree: list[psutil.Process] | None = None) -> None:
        """SIGKILL the group and every descendant, then reap: nothing is left on the port."""
        if self.process is None:
            return
        tree = self._tree() if tree is None else tree
        _signal_group(self.process.pid, signal.SIGKILL)
        for child in tree:
            with contextlib.suppress(psutil.Error):
                child.kill()
        self.process.wait()
        psutil.wait_procs(tree, timeout=10)

    def listens(self) -> bool:
        """True when our own child (not a stranger who took the port) listens on `port`."""
        if self.port is None or self.process is None:
            return True
        try:
            processes = [psutil.Process(self.process.pid), *self._tree()]
        except psutil.Error:
            return False
        for process in processes:
            with contextlib.suppress(psutil.Error):
                for connection in process.net_connections(kind="inet"):
                    if (
                        connection.status == psutil.CONN_LISTEN
                        and connection.laddr.port == self.port
                    ):
                        return True
        return False

    def _tree(self) -> list[psutil.Process]:
        if self.process is None:
            return []
        try:
            return psutil.Process(self.process.pid).children(recursive=True)
        except psutil.Error:
            return []

    def cpu_seconds(self) -> float:
        """CPU time (user and system) the process and its children have used so far; 0.0 when
        it is gone. A starting server uses CPU all the way to its first answer."""
        if self.process is None:
            return 0.0
        total = 0.0
        try:
            processes = [psutil.Process(self.process.pid), *self._tree()]
        except psutil.Error:
            return 0.0
        for process in processes:
            with contextlib.suppress(psutil.Error):
                times = process.cpu_times()
                total += times.user + times.system
        return total

    def wait_port_free(self, timeout: float = 15.0) -> bool:
        if self.port is None:
            return True
        deadline = time.monotonic() + timeout
        while True:
            try:
                ensure_ports_free([(self.name, self.interface, self.port)])
                return True
            except PortInUseError:
                if time.monotonic() > deadline:
                    return False
                time.sleep(0.2)


def _signal_group(pgid: int, signum: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, signum)

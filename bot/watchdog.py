"""The supervisor's watch over one child: restart it when it exits, stalls, or stalls while starting.

- Exited: restarted at once.
- Stalled once up: every probe failing for `stall_seconds` (SUPERVISOR_STALL_SECONDS, 30 s);
  one slow probe under load does not count.
- Stalled while starting: a restarted server is given its whole start-up budget
  (`ManagedProcess.startup_timeout`, 400 s: Rasa loads its model in 1-3 minutes on a busy
  machine) to answer its first probe, so one that froze seconds after the restart (SIGSTOP, a
  deadlock) went unnoticed for minutes. Loading is work: Rasa and the action server use CPU
  all the way to their first answer. A starting process tree that used no CPU at all for
  `start_stall_seconds` (SUPERVISOR_START_STALL_SECONDS, 60 s) is stalled and restarted.
- Restarts in a loop back off up to 30 s.
"""

from __future__ import annotations

import logging
import threading
import time

from bot.managed_process import ManagedProcess

logger = logging.getLogger("bot.supervisor")

PROBE_INTERVAL_SECONDS = 2.0
MAX_BACKOFF_SECONDS = 30.0


class _StartProgress:
    """When a starting process tree last used CPU (any change of its CPU seconds counts)."""

    def __init__(self, managed: ManagedProcess) -> None:
        self.managed = managed
        self.cpu = managed.cpu_seconds()
        self.since = time.monotonic()

    def idle_seconds(self, now: float) -> float:
        cpu = self.managed.cpu_seconds()
        if cpu != self.cpu:
            self.cpu, self.since = cpu, now
        return now - self.since


class Watchdog:
    """Watches one `ManagedProcess` from its own thread until `stopping` is set, then stops it
    (from this thread: its children die with the thread that started them)."""

    def __init__(
        self,
        managed: ManagedProcess,
        stopping: threading.Event,
        stall_seconds: float,
        start_stall_seconds: float,
    ) -> None:
        self.managed = managed
        self.stopping = stopping
        self.stall_seconds = stall_seconds
        self.start_stall_seconds = start_stall_seconds

    def run(self) -> None:
        managed = self.managed
        failing_since: float | None = None
        grace = self.stall_seconds
        last_restart = -3600.0
        delay = 0.0
        starting: _StartProgress | None = None  # set from a restart until the first answer
        while not self.stopping.wait(PROBE_INTERVAL_SECONDS):
            if not managed.is_running():
                code = managed.process.returncode if managed.process else "?"
                reason = f"exited (code {code})"
            elif managed.is_healthy():
                if starting is not None:  # from here on a silence is a stall, not a slow start
                    pid = managed.process.pid if managed.process else "?"
                    logger.info("%s is up again (pid %s)", managed.name, pid)
                    starting = None
                failing_since, grace = None, self.stall_seconds
                continue
            else:
                now = time.monotonic()
                failing_since = failing_since or now
                idle = starting.idle_seconds(now) if starting is not None else 0.0
                if idle >= self.start_stall_seconds:
                    reason = f"used no CPU for {idle:.0f} s while starting (stalled)"
                elif now - failing_since < grace:
                    continue
                else:
                    reason = f"answered no health probe for {now - failing_since:.0f} s (stalled)"
            if self.stopping.is_set():
                break
            recent = time.monotonic() - last_restart < 60
            delay = min(max(delay * 2, 1.0), MAX_BACKOFF_SECONDS) if recent else 0.0
            managed.restarts += 1
            # Every restart is its own event for the operator: the message is formatted here, so
            # the log's repeat filter (which keys on the message template) never folds a stall
            # into an earlier crash, nor one server's restart into another's.
            logger.getChild(managed.name.replace(" ", "_")).error(
                f"{managed.name} {reason}; restarting it and its process group"
                f" (restart {managed.restarts}); see {managed.log_file}"
            )
            managed.kill_tree()
            if not managed.wait_port_free():
                logger.error("port %s (%s) is still taken; retrying", managed.port, managed.name)
            if delay and self.stopping.wait(delay):  # restarting in a loop: back off
                break
            last_restart = time.monotonic()
            try:
                managed.start()
            except OSError as error:  # e.g. out of memory or file handles: try again later
                logger.error("could not restart %s: %s", managed.name, error)
            failing_since, grace = time.monotonic(), managed.startup_timeout
            starting = _StartProgress(managed)
        managed.stop()

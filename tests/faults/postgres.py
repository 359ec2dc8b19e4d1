"""A PostgreSQL server of the test's own, in a temp dir on a free port, that it can stop and start.

Built from the `initdb` and `pg_ctl` of the installed PostgreSQL (/usr/lib/postgresql/*/bin).
PostgreSQL refuses to run as root, so as root the server runs as the `postgres` user. When
no PostgreSQL is installed, `require_postgres_binaries()` (tests/services.py) fails saying so.
"""

from __future__ import annotations

import glob
import os
import shlex
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

from bot.stack import free_port
from tests.services import postgres_binaries_unavailable


class TemporaryPostgres:
    """`with TemporaryPostgres() as pg: pg.url ...; pg.stop(); pg.start()`."""

    def __init__(self) -> None:
        self.bin = Path(sorted(glob.glob("/usr/lib/postgresql/*/bin"))[-1])
        # Below the ephemeral range (bot.stack.free_port): initdb takes seconds before the server
        # binds, and a restart binds the same port again, which an outgoing connection could take.
        self.port = free_port()
        self.directory = Path(tempfile.mkdtemp(prefix="learncity-pg-"))
        self.data = self.directory / "data"
        self.log = self.directory / "server.log"

    @staticmethod
    def unavailable() -> str | None:
        """None when a server can be made here, else the reason it cannot."""
        return postgres_binaries_unavailable()

    @property
    def url(self) -> str:
        return f"postgresql+psycopg2://postgres@127.0.0.1:{self.port}/postgres"

    def __enter__(self) -> TemporaryPostgres:
        if os.geteuid() == 0:
            shutil.chown(self.directory, "postgres", "postgres")
        self._run(
            "initdb",
            "-D",
            str(self.data),
            "-U",
            "postgres",
            "--auth=trust",
            "--no-sync",
            "-E",
            "UTF8",
        )
        self.start()
        return self

    def __exit__(self, *_: object) -> None:
        try:
            self._run("pg_ctl", "-D", str(self.data), "stop", "-m", "immediate", check=False)
        finally:
            shutil.rmtree(self.directory, ignore_errors=True)

    def start(self) -> float:
        """Start the server and wait until it accepts connections; returns the seconds taken."""
        started = time.monotonic()
        # pg_ctl hands `-o` to a shell: the socket directory is quoted (a TMPDIR with a space).
        socket_directory = shlex.quote(str(self.directory))
        options = f"-p {self.port} -k {socket_directory} -c listen_addresses=127.0.0.1 -c fsync=off"
        self._run("pg_ctl", "-D", str(self.data), "-l", str(self.log), "-o", options, "-w", "start")
        return time.monotonic() - started

    def stop(self) -> None:
        """Stop at once, as a crash or an operator's restart would: clients are cut off."""
        self._run("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "stop")

    def _run(self, program: str, *arguments: str, check: bool = True) -> None:
        command = [str(self.bin / program), *arguments]
        if os.geteuid() == 0:
            command = ["runuser", "-u", "postgres", "--", *command]
        completed = subprocess.run(
            command, capture_output=True, text=True, check=False, timeout=120
        )
        if check and completed.returncode != 0:
            raise RuntimeError(
                f"{program} failed ({completed.returncode}): {completed.stderr.strip()}"
            )

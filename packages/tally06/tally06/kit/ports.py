"""Port checks that turn 'address already in use' into a clear message and exit code."""

from __future__ import annotations

import socket
import sys

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


def free_port(host: str = "127.0.0.1") -> int:
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

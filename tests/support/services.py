"""Service processes for integration tests: real processes, killable like in production."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

# The services' logs of this run; with the suite spread over processes (pytest-xdist), each
# process keeps its own folder, which it scans for leaked personal data when it ends.
LOGS_ROOT = Path(__file__).resolve().parents[1] / "artifacts" / "logs"
LOG_DIR = LOGS_ROOT / os.environ.get("PYTEST_XDIST_WORKER", "main")

# The Faust workers' consumer-group timing for tests: a SIGKILLed worker's partitions wait for
# its session to expire, 10 s in production (tally06.kit.service_settings.WorkerSettings). 3 s is
# still ten heartbeats; the embedded Kafka accepts it (group.min.session.timeout.ms is 1 s there,
# tally06.stack.embedded.kafka.ONE_MACHINE_SETTINGS; Kafka's default minimum is 6 s).
FAST_CONSUMER_GROUP = {"TALLY06_SESSION_TIMEOUT_S": "3", "TALLY06_REBALANCE_TIMEOUT_S": "2",
                       "TALLY06_HEARTBEAT_INTERVAL_S": "0.3"}


@dataclass
class ServiceProcess:
    name: str
    module: str
    env: dict[str, str]
    port: int | None = None
    process: subprocess.Popen | None = None
    log_path: Path = field(init=False)

    def __post_init__(self) -> None:
        LOG_DIR.mkdir(parents=True, exist_ok=True)
        self.log_path = LOG_DIR / f"{self.name}-{os.getpid()}-{time.time_ns()}.log"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, ready_path: str | None = "/readyz", timeout_s: float = 30) -> ServiceProcess:
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", self.module], env=self.env, stdout=log, stderr=log,
                start_new_session=True,
            )
        if self.port is not None and ready_path:
            self.wait_ready(ready_path, timeout_s)
        return self

    def wait_ready(self, path: str = "/readyz", timeout_s: float = 30) -> None:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.process and self.process.poll() is not None:
                raise RuntimeError(f"{self.name} exited {self.process.returncode}: {self.log_tail()}")
            try:
                if httpx.get(self.url + path, timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        raise TimeoutError(f"{self.name} not ready: {self.log_tail()}")

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def log_tail(self, chars: int = 3000) -> str:
        return self.log_path.read_text(errors="replace")[-chars:]

    def kill(self) -> None:
        """SIGKILL: no shutdown code runs, as in a crash."""
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(10)

    def stop(self, timeout_s: float = 15) -> int | None:
        self.ask_to_stop()
        return self.wait_stopped(timeout_s)

    def ask_to_stop(self) -> None:
        """SIGTERM: the service's shutdown code runs."""
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)

    def wait_stopped(self, timeout_s: float = 15) -> int | None:
        """Waits for a service asked to stop; SIGKILL if it does not within ``timeout_s``."""
        if self.process and self.process.poll() is None:
            try:
                self.process.wait(timeout_s)
            except subprocess.TimeoutExpired:
                self.kill()
        return self.process.returncode if self.process else None


def stop_all(processes: list[ServiceProcess], timeout_s: float = 15) -> None:
    """Every process shuts down at once (cleanly, by SIGTERM): a test's teardown waits for the
    slowest one, not for their sum."""
    for proc in processes:
        proc.ask_to_stop()
    for proc in processes:
        proc.wait_stopped(timeout_s)

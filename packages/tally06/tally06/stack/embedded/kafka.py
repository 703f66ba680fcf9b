"""Apache Kafka, run from the jars `make install` fetched with Maven (deploy/kafka/pom.xml).

Each node is a KRaft broker and controller in one JVM, with its log on disk: a node stopped,
or killed with SIGKILL, comes back with every acknowledged message. ``wipe()`` is the other
fault: a cluster rebuilt empty. Several nodes with the same voters and cluster id form a
quorum; they answer only together, so they are spawned first and awaited after
(``start_nodes``).

Why a node counts as started when it logs "Kafka Server started": Kafka logs it once the
broker is unfenced, i.e. ready for produce and fetch; an open port comes seconds earlier.
"""

from __future__ import annotations

import base64
import os
import shutil
import subprocess
import sys
import uuid
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tally06.kit.exceptions import ComponentStartError
from tally06.kit.ports import require_free_port
from tally06.stack.embedded.process import EmbeddedProcess

COMPONENT = "kafka"
START_TIMEOUT = 90.0
READY_LINE = b"Kafka Server started"
KAFKA_MAIN = "kafka.Kafka"
STORAGE_TOOL = "kafka.tools.StorageTool"

# What a cluster of three runs with in production (docker-compose.yml sets the same; a test
# holds them together): every write on two replicas before it is acknowledged.
CLUSTER_SETTINGS: Mapping[str, str] = {
    "default.replication.factor": "3",
    "min.insync.replicas": "2",
    "offsets.topic.replication.factor": "3",
    "transaction.state.log.replication.factor": "3",
    "transaction.state.log.min.isr": "2",
    "auto.create.topics.enable": "false",
    "unclean.leader.election.enable": "false",
}
# One node alone can only keep one replica of anything.
SINGLE_NODE_SETTINGS: Mapping[str, str] = {
    **CLUSTER_SETTINGS,
    "default.replication.factor": "1",
    "min.insync.replicas": "1",
    "offsets.topic.replication.factor": "1",
    "transaction.state.log.replication.factor": "1",
    "transaction.state.log.min.isr": "1",
    "share.coordinator.state.topic.replication.factor": "1",
    "share.coordinator.state.topic.min.isr": "1",
}
# On one machine: a node killed and restarted is registered again after the broker session
# (Kafka's 9 s default would be the restart's length); internal topics of 50 partitions each
# cost seconds on two cores; a consumer group forms at once instead of after 3 s.
ONE_MACHINE_SETTINGS: Mapping[str, str] = {
    "broker.session.timeout.ms": "3000",
    "broker.heartbeat.interval.ms": "500",
    "offsets.topic.num.partitions": "3",
    "transaction.state.log.num.partitions": "3",
    "share.coordinator.state.topic.num.partitions": "3",
    "group.initial.rebalance.delay.ms": "0",
    # The tests' workers use a 3 s consumer session so a killed one's partitions move quickly;
    # Kafka refuses sessions under 6 s by default.
    "group.min.session.timeout.ms": "1000",
    "num.partitions": "1",
    "num.network.threads": "2",
    "num.io.threads": "4",
}
LOG4J2 = """Configuration:
  Appenders:
    Console: {name: STDOUT, PatternLayout: {pattern: "[%d] %p %m (%c)%n"}}
  Loggers:
    Root: {level: INFO, AppenderRef: [{ref: STDOUT}]}
    Logger:
      - {name: org.apache.kafka, level: WARN}
      - {name: state.change.logger, level: WARN}
"""


def kafka_lib() -> Path:
    """The jars: ``TALLY06_KAFKA_LIB``, else ``.tools/kafka/lib`` beside the project's ``.venv``."""
    configured = os.environ.get("TALLY06_KAFKA_LIB")
    return Path(configured) if configured else Path(sys.prefix).parent / ".tools" / "kafka" / "lib"


def java_binary() -> str:
    home = os.environ.get("JAVA_HOME")
    found = str(Path(home) / "bin" / "java") if home else shutil.which("java")
    if not found or not Path(found).exists():
        raise ComponentStartError(COMPONENT, "Java 17 or newer is needed to run Apache Kafka: install it "
                                             "(apt-get install openjdk-17-jre-headless) or set KAFKA_BOOTSTRAP")
    return found


def new_cluster_id() -> str:
    """A cluster id as Kafka writes one: 16 random bytes, URL-safe base64 without padding.

    Like Kafka's own Uuid.randomUuid, never one that starts with "-": the storage tool would
    take it for an option (one id in 64) and refuse to format.
    """
    while True:
        found = base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")
        if not found.startswith("-"):
            return found


@dataclass(frozen=True)
class Voter:
    """A controller of the quorum: its node id and its controller listener."""

    node_id: int
    host: str
    port: int

    def __str__(self) -> str:
        return f"{self.node_id}@{self.host}:{self.port}"


class EmbeddedKafka(EmbeddedProcess):
    """One KRaft node (broker and controller) on `host:port`, its log under `data_dir`."""

    component = COMPONENT
    noun = "Kafka"
    not_ready = f"Kafka did not log that it started within {START_TIMEOUT:.0f} s"
    start_timeout = START_TIMEOUT
    probe_interval = 0.1
    stop_timeout = 20.0

    def __init__(self, port: int, data_dir: Path, host: str = "127.0.0.1", log_path: Path | None = None, *,
                 controller_port: int, node_id: int = 1, voters: Sequence[Voter] = (),
                 cluster_id: str | None = None, heap_mb: int = 512,
                 settings: Mapping[str, str] = SINGLE_NODE_SETTINGS) -> None:
        # Absolute: the JVM runs in this folder and reads its files by these paths (`tally06 up`
        # is given `.tally06/`).
        self.data_dir = data_dir.absolute()
        super().__init__(host, port, (log_path or data_dir / "kafka.log").absolute())
        self.node_id = node_id
        self.controller_port = controller_port
        self.voters = tuple(voters) or (Voter(node_id, host, controller_port),)
        self._cluster_id = cluster_id
        self.heap_mb = heap_mb
        self.settings = dict(settings)

    @property
    def bootstrap(self) -> str:
        return f"{self.host}:{self.port}"

    @property
    def log_dir(self) -> Path:
        return self.data_dir / "log"

    @property
    def cluster_id(self) -> str:
        """The id the log was (or will be) formatted with; kept beside the log."""
        if self._cluster_id is None:
            stored = self.data_dir / "cluster.id"
            if not stored.exists():
                self.data_dir.mkdir(parents=True, exist_ok=True)
                stored.write_text(new_cluster_id())
            self._cluster_id = stored.read_text().strip()
        return self._cluster_id

    def wipe(self) -> None:
        """Lose the log, as a cluster rebuilt empty does; the node starts empty next time."""
        self.stop()
        shutil.rmtree(self.log_dir, ignore_errors=True)

    def server_properties(self) -> dict[str, str]:
        return {
            "process.roles": "broker,controller",
            "node.id": str(self.node_id),
            "controller.quorum.voters": ",".join(map(str, self.voters)),
            "listeners": f"PLAINTEXT://{self.host}:{self.port},CONTROLLER://{self.host}:{self.controller_port}",
            "advertised.listeners": f"PLAINTEXT://{self.host}:{self.port}",
            "controller.listener.names": "CONTROLLER",
            "inter.broker.listener.name": "PLAINTEXT",
            "listener.security.protocol.map": "CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT",
            "log.dirs": str(self.log_dir),
            **ONE_MACHINE_SETTINGS,
            **self.settings,
        }

    def _prepare(self) -> None:
        require_free_port(self.component, self.host, self.controller_port)
        self.data_dir.mkdir(parents=True, exist_ok=True)
        props = "".join(f"{key}={value}\n" for key, value in self.server_properties().items())
        self._properties_path.write_text(props)
        (self.data_dir / "log4j2.yaml").write_text(LOG4J2)
        if not (self.log_dir / "meta.properties").exists():
            self._format()

    def _format(self) -> None:
        command = [*self._java(), STORAGE_TOOL, "format", "--ignore-formatted",
                   "-t", self.cluster_id, "-c", str(self._properties_path)]
        done = subprocess.run(command, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            raise ComponentStartError(COMPONENT, f"formatting {self.log_dir} failed: {done.stdout}{done.stderr}")

    @property
    def _properties_path(self) -> Path:
        return self.data_dir / "server.properties"

    def _java(self) -> list[str]:
        lib = kafka_lib()
        if not any(lib.glob("kafka_2.13-*.jar")):
            raise ComponentStartError(COMPONENT, f"no Apache Kafka in {lib}: run `make install` "
                                                 "(it fetches Kafka with Maven) or set TALLY06_KAFKA_LIB")
        return [
            java_binary(), f"-Xms{min(self.heap_mb, 256)}m", f"-Xmx{self.heap_mb}m",
            "-XX:+UseG1GC", "-XX:MaxGCPauseMillis=20", "-XX:+ExitOnOutOfMemoryError",
            "-Djava.awt.headless=true", f"-Dlog4j2.configurationFile={self.data_dir / 'log4j2.yaml'}",
            "-cp", f"{lib}/*",
        ]

    def _command(self) -> list[str]:
        return [*self._java(), KAFKA_MAIN, str(self._properties_path)]

    def _popen_options(self) -> dict[str, Any]:
        return {"cwd": self.data_dir}

    @property
    def _log_name(self) -> str:
        return str(self.log_path)

    def _is_ready(self) -> bool:
        assert self._log is not None
        fd = self._log.fileno()
        return READY_LINE in os.pread(fd, os.fstat(fd).st_size - self._log_offset, self._log_offset)


def start_nodes(nodes: Sequence[EmbeddedKafka]) -> None:
    """Start nodes that form one quorum: none answers before a majority of them runs."""
    for node in nodes:
        if not node.is_running:
            node.spawn()
    with ThreadPoolExecutor(len(nodes)) as pool:
        list(pool.map(lambda node: node.wait_ready(), nodes))

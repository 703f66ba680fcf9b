"""Three Apache Kafka nodes on one machine, formed like production's cluster (RF 3, min ISR 2),
for the tests that kill brokers: which node leads what, and the active controller."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from aiokafka.admin import AIOKafkaAdminClient

from tally06.kit.ports import free_port
from tally06.stack.embedded.kafka import CLUSTER_SETTINGS, EmbeddedKafka, Voter, new_cluster_id, start_nodes

HOST = "127.0.0.1"


class KafkaCluster:
    """``size`` KRaft nodes (broker and controller each) with one quorum and cluster id."""

    # The embedded default: with 384 MB, a node left alone with its two peers down once stopped on
    # an OutOfMemoryError while the relay kept retrying its writes.
    def __init__(self, root: Path, size: int = 3, heap_mb: int = 512) -> None:
        ports = [(free_port(), free_port()) for _ in range(size)]
        voters = [Voter(n, HOST, controller) for n, (_, controller) in enumerate(ports, start=1)]
        cluster_id = new_cluster_id()
        self.nodes = {
            n: EmbeddedKafka(client, root / f"node{n}", HOST, controller_port=controller, node_id=n, voters=voters,
                             cluster_id=cluster_id, heap_mb=heap_mb, settings=CLUSTER_SETTINGS)
            for n, (client, controller) in enumerate(ports, start=1)
        }

    @property
    def bootstrap(self) -> str:
        return ",".join(node.bootstrap for node in self.nodes.values())

    def start(self) -> None:
        """Start every node not running (a lone node waits for its quorum, so together)."""
        stopped = [node for node in self.nodes.values() if not node.is_running]
        if stopped:
            start_nodes(stopped)

    def stop(self) -> None:
        """Stop every node; one that does not stop in time is killed (EmbeddedProcess.stop)."""
        with ThreadPoolExecutor(len(self.nodes)) as pool:
            list(pool.map(lambda node: node.stop(), self.nodes.values()))

    def kill_all(self) -> None:
        """SIGKILL every node, e.g. when the test is over and the logs are thrown away."""
        with ThreadPoolExecutor(len(self.nodes)) as pool:
            list(pool.map(lambda node: node.kill(), self.nodes.values()))

    def kill(self, node_id: int) -> None:
        self.nodes[node_id].kill()

    def restart(self, node_id: int) -> None:
        """Start a killed node again with its log."""
        self.nodes[node_id].start()

    def running(self) -> list[int]:
        return [n for n, node in self.nodes.items() if node.is_running]

    def active_controller(self) -> int | None:
        """The quorum's leader, as the running nodes last recorded it.

        Kafka clients' metadata names a random broker as "controller" in KRaft, so the quorum's
        own state file is asked: the newest leader epoch any running node knows wins.
        """
        newest: tuple[int, int] | None = None
        for n in self.running():
            path = self.nodes[n].log_dir / "__cluster_metadata-0" / "quorum-state"
            with contextlib.suppress(OSError, ValueError):
                state = json.loads(path.read_text())
                if state.get("leaderId", -1) >= 0 and (newest is None or state["leaderEpoch"] > newest[0]):
                    newest = (state["leaderEpoch"], state["leaderId"])
        return newest[1] if newest else None

    async def partitions(self, topic: str) -> dict[int, tuple[int, frozenset[int]]]:
        """Partition → (leader node, in-sync replicas), from a fresh metadata request."""
        bootstrap = ",".join(self.nodes[n].bootstrap for n in self.running())
        admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=5000)
        await admin.start()
        try:
            [described] = await admin.describe_topics([topic])
        finally:
            await admin.close()
        return {p["partition"]: (p["leader"], frozenset(p["isr"])) for p in described["partitions"]}

    async def busiest_leader(self, topic: str) -> int:
        """The node that leads the most partitions of ``topic``."""
        leaders = Counter(leader for leader, _ in (await self.partitions(topic)).values())
        return leaders.most_common(1)[0][0]

    async def wait_in_sync(self, topic: str, timeout_s: float = 60) -> float:
        """Waits until every partition of ``topic`` has all nodes in sync; returns the seconds."""
        loop = asyncio.get_running_loop()
        started = loop.time()
        everyone = frozenset(self.nodes)
        while True:
            with contextlib.suppress(Exception):
                if all(isr == everyone and leader in everyone
                       for leader, isr in (await self.partitions(topic)).values()):
                    return loop.time() - started
            assert loop.time() - started < timeout_s, f"{topic} not back in sync on all nodes in {timeout_s} s"
            await asyncio.sleep(0.2)

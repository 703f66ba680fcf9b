"""Peer stream processor: a Quix Streams application counting the facts per message key (the
fact key: a commune), on the same broker and the same facts topic content as the aggregator
replay, in the same run.

It runs in its own process (``python -m bench.peer_quix``), as the aggregator does, and prints one
JSON line. Throughput is measured as the replay's is, between the first and the last message
processed; the figure including start-up and group join is reported as well.

Work per message (``--work count``): decode the columnar fact batch (``decode_fact_rows``, as the
aggregator does) and add its row count to the key's count in Quix state (RocksDB, with a
changelog topic, at-least-once). ``--work fold`` instead folds the rows with the aggregator's own
in-memory fold, like the bare consumer baseline, to separate the cost of the work from the cost
of the framework.

Settings as in production: an idempotent producer (librdkafka's, for the changelog), Kafka's
own fetch wait (a fetch is answered as soon as data arrives), and a 10 s session timeout, the
aggregator's (librdkafka's 45 s only matters when a member dies, which the benchmark does not do).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

from tally06.contract.events import decode_fact_rows
from tally06.contract.topics import FACTS


def run_peer(bootstrap: str, count: int, state_dir: str, work: str, timeout_s: float) -> dict[str, Any]:
    launched = time.perf_counter()
    from quixstreams import Application, State

    from tally06_aggregator.fold import Tally, expand, tally

    app = Application(
        broker_address=bootstrap,
        consumer_group=f"bench-quix-{work}-{time.time_ns()}",
        auto_offset_reset="earliest",
        auto_create_topics=True,  # the facts topic exists; this creates the changelog topic only
        use_changelog_topics=work == "count",
        processing_guarantee="at-least-once",
        state_dir=state_dir,
        loglevel="WARNING",
        producer_extra_config={"enable.idempotence": True},
        consumer_extra_config={"session.timeout.ms": 10_000},
    )
    topic = app.topic(FACTS.name, value_deserializer="bytes", key_deserializer="str")
    sdf = app.dataframe(topic)
    seen = {"rows": 0, "messages": 0, "first": None, "last": None}
    per_key: dict[str, int] = {}
    fold: dict[str, Any] = {"tally": Tally(), "positions": {}}

    def mark(rows: int) -> None:
        now = time.perf_counter()
        if seen["first"] is None:
            seen["first"] = now
        seen["rows"] += rows
        seen["messages"] += 1
        seen["last"] = now
        if seen["rows"] >= count:
            app.stop()

    def count_rows(value: bytes, state: State) -> None:
        key, rows, _ = decode_fact_rows(value)
        total = state.get("facts", 0) + len(rows)
        state.set("facts", total)
        per_key[key] = total
        mark(len(rows))

    def fold_rows(value: bytes) -> None:
        message = decode_fact_rows(value)
        fold["tally"], moved = tally([message], fold["positions"], fold["tally"])
        fold["positions"].update(moved)
        mark(len(message[1]))

    if work == "count":
        sdf.update(count_rows, stateful=True)
    else:
        sdf.update(fold_rows)
    watchdog = threading.Timer(timeout_s, app.stop)
    watchdog.daemon = True
    watchdog.start()
    app.run()
    stopped = time.perf_counter()
    watchdog.cancel()
    if work == "fold":
        expand(fold["tally"])
    first, last = seen["first"], seen["last"]
    result: dict[str, Any] = {"work": work, "rows": seen["rows"], "messages": seen["messages"],
                              "complete": seen["rows"] >= count}
    if first is not None and last is not None and last > first:
        result |= {"eps": seen["rows"] / (last - first), "with_startup_eps": seen["rows"] / (stopped - launched),
                   "first_message_after_s": first - launched}
    if work == "count":
        result["per_key"] = per_key
    try:
        import psutil

        result["memory_mb"] = psutil.Process().memory_info().rss / 2**20
    except ImportError:
        pass
    return result


def peer_in_process(bootstrap: str, count: int, workdir: Path, work: str = "count",
                    timeout_s: float = 300) -> dict[str, Any]:
    """Run the peer in its own process; returns its result or ``{"error": ...}``."""
    log = workdir / f"peer-quix-{work}-{time.time_ns()}.log"
    cmd = [sys.executable, "-m", "bench.peer_quix", "--bootstrap", bootstrap, "--count", str(count),
           "--state-dir", str(workdir / f"quix-state-{work}"), "--work", work, "--timeout", str(timeout_s)]
    with log.open("wb") as stderr:
        done = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=stderr, timeout=timeout_s + 60,
                              env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])}, check=False)
    lines = done.stdout.decode(errors="replace").strip().splitlines()
    if done.returncode != 0 or not lines:
        return {"error": f"exit {done.returncode}: {log.read_text(errors='replace')[-1500:]}"}
    return json.loads(lines[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--bootstrap", required=True)
    parser.add_argument("--count", type=int, required=True)
    parser.add_argument("--state-dir", required=True)
    parser.add_argument("--work", choices=("count", "fold"), default="count")
    parser.add_argument("--timeout", type=float, default=300)
    args = parser.parse_args()
    result = run_peer(args.bootstrap, args.count, args.state_dir, args.work, args.timeout)
    print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main()

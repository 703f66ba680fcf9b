"""Peer stream processor in Java: a Kafka Streams application (bench/kstreams) keeping the
aggregator's counters, on the same broker and the same facts topic content as the aggregator
replay, in the same run.

It is the peer a user would pick instead of the aggregator: it folds the facts as the
aggregator does (``tally06_aggregator.fold``: a fact applied at most once per key by its
sequence number, a batch after a gap held back; credited and duplicate claims per unit on the
team's lineage and local day, per unit, per officer and day, per officer) into RocksDB state
stores with changelog topics, ``processing.guarantee=exactly_once_v2``. After the facts it
writes the counters it reads from its stores (an interactive query), and they are checked
against the aggregator's fold of the same messages: a rate means nothing if the counts are wrong.

The jar is built with Maven (``mvn -q -B package``) when the POM or a source changed, keyed by
their hash. Throughput is measured as the other peers' is, between the first and the last
message processed; the figure including the JVM's start-up and the group join is reported too.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from tally06_aggregator.fold import Deltas

PROJECT = Path(__file__).resolve().parent / "kstreams"
TARGET = PROJECT / "target"
MAIN_CLASS = "tally06.bench.FactCounter"
HEAP = "-Xmx512m"

# Counter families as the application names them, and the read-model table each mirrors.
FAMILIES = {"U": "unit_daily", "T": "unit_total", "O": "officer_daily", "P": "officer_total"}

Counters = dict[str, dict[str, list[int]]]


def sources_digest() -> str:
    digest = hashlib.sha256()
    for path in [PROJECT / "pom.xml", *sorted((PROJECT / "src").rglob("*"))]:
        if path.is_file():
            digest.update(str(path.relative_to(PROJECT)).encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()[:16]


def build_jar(timeout_s: float = 600) -> str:
    """The application's classpath, built first when the POM or a source changed."""
    stamp = TARGET / f".built-{sources_digest()}"
    if not stamp.exists() or not (TARGET / "kstreams-peer.jar").exists():
        done = subprocess.run(["mvn", "-q", "-B", "package", "-f", str(PROJECT / "pom.xml")], capture_output=True,
                              timeout=timeout_s, check=False)
        if done.returncode != 0:
            output = (done.stdout + done.stderr).decode(errors="replace")
            raise RuntimeError(f"mvn package failed ({done.returncode}): {output[-1500:]}")
        for old in TARGET.glob(".built-*"):
            old.unlink()
        stamp.touch()
    return f"{TARGET / 'kstreams-peer.jar'}:{TARGET / 'lib'}/*"


def fold_counters(deltas: Deltas) -> Counters:
    """The aggregator's fold in the application's shape: ``unit|day|metric`` and the like."""
    tables = {"unit_daily": deltas.unit_daily, "unit_total": deltas.unit_total,
              "officer_daily": deltas.officer_daily, "officer_total": deltas.officer_total}
    return {name: {"|".join(key): list(counts) for key, counts in rows.items()} for name, rows in tables.items()}


def differences(got: Counters, expected: Counters, limit: int = 5) -> list[str]:
    wrong: list[str] = []
    for table in sorted(expected.keys() | got.keys()):
        mine, theirs = got.get(table, {}), expected.get(table, {})
        for key in sorted(mine.keys() | theirs.keys()):
            if mine.get(key) != theirs.get(key):
                wrong.append(f"{table} {key}: got {mine.get(key)}, expected {theirs.get(key)}")
                if len(wrong) >= limit:
                    return wrong
    return wrong


def peer_in_process(bootstrap: str, count: int, workdir: Path, expected: Mapping[str, Any] | None = None, *,
                    threads: int = 1, restore_check: bool = False, keep_counters: bool = False,
                    timeout_s: float = 300) -> dict[str, Any]:
    """Run the application until it processed ``count`` facts (every fact of every message,
    repeats included); returns its figures, or ``{"error": ...}``. ``expected`` (from
    ``fold_counters``) is what its counters must equal; ``restore_check`` also restores the
    stores from their changelogs into a second instance and compares."""
    try:
        classpath = build_jar()
    except (RuntimeError, OSError, subprocess.TimeoutExpired) as exc:
        return {"error": f"build: {exc}"}
    run = workdir / f"kstreams-{time.time_ns()}"
    run.mkdir(parents=True)
    out, log = run / "counters.json", run / "peer-kstreams.log"
    cmd = ["java", HEAP, "-Dorg.slf4j.simpleLogger.defaultLogLevel=warn", "-cp", classpath, MAIN_CLASS,
           "--bootstrap", bootstrap, "--count", str(count), "--app-id", f"bench-kstreams-{time.time_ns()}",
           "--state-dir", str(run / "state"), "--out", str(out), "--threads", str(threads),
           "--timeout", str(timeout_s)]
    if restore_check:
        cmd.append("--restore-check")
    with log.open("wb") as stderr:
        try:
            done = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=stderr, timeout=2 * timeout_s + 120,
                                  env=os.environ.copy(), check=False)
        except subprocess.TimeoutExpired:
            return {"error": f"did not finish: {log.read_text(errors='replace')[-1500:]}"}
    lines = done.stdout.decode(errors="replace").strip().splitlines()
    if done.returncode != 0 or not lines:
        return {"error": f"exit {done.returncode}: {log.read_text(errors='replace')[-1500:]}"}
    result: dict[str, Any] = json.loads(lines[-1])
    if "error" in result or not out.exists():
        return {**result, "error": result.get("error", "no counters written")}
    stored = json.loads(out.read_text())
    counters = {FAMILIES[f]: rows for f, rows in stored["counters"].items()}
    errors = []
    if expected is not None:
        wrong = differences(counters, dict(expected))
        result["counters_equal"] = not wrong
        if wrong:
            errors.append("counters differ from the aggregator's fold: " + "; ".join(wrong))
    if restore_check:
        restored = {FAMILIES[f]: rows for f, rows in (stored.get("restored") or {}).items()}
        wrong = differences(restored, counters)
        result["restored_equal"] = not wrong
        if wrong:
            errors.append("counters restored from the changelogs differ: " + "; ".join(wrong))
        if keep_counters:
            result["restored"] = restored
    if errors:
        result["error"] = " / ".join(errors)
    if keep_counters:
        result["counters"] = counters
    return result

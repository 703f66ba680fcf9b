"""The Kafka Streams peer of the replay benchmark (bench/kstreams, issue 19): built with Maven,
run on a broker of the test's own over facts published as the relay publishes them, its
counters must be the aggregator's, counted here independently: every unit on the team's lineage,
the local day in Asia/Ho_Chi_Minh, credited and duplicate claims, a message read again counted
once and a batch after a gap held back. The counters it restores from its changelogs into a
second instance (exactly_once_v2: committed transactions only) must be the same."""

import asyncio
from collections import defaultdict
from typing import Any

from aiokafka import AIOKafkaProducer

from bench.peer_kstreams import FAMILIES, fold_counters, peer_in_process
from bench.synthetic import synthetic_rows
from tally06.contract.events import LOCAL_TZ, F, decode_fact_rows
from tally06.contract.topics import FACTS, fact_key
from tally06.kit.topic_admin import ensure_topics
from tally06_aggregator.fold import fold
from tally06_ingest.facts import batches_by_key, encode_batch

FACTS_COUNT = 3000
READ_AGAIN = 3  # keys whose first message is published a second time, after all the others


def independent_counters(rows: list[dict[str, Any]]) -> dict[str, dict[str, list[int]]]:
    """The four read-model counters of these rows, from the event-store rows themselves."""
    counters: dict[str, dict[str, list[int]]] = {name: defaultdict(lambda: [0, 0]) for name in FAMILIES.values()}
    for row in rows:
        day = row["occurred_at"].astimezone(LOCAL_TZ).date().isoformat()
        claim = 0 if row["credited"] else 1
        for unit in row["lineage"]:
            counters["unit_daily"][f"{unit}|{day}|{row['metric']}"][claim] += 1
            counters["unit_total"][f"{unit}|{row['metric']}"][claim] += 1
        counters["officer_daily"][f"{row['team']}|{row['officer']}|{day}|{row['metric']}"][claim] += 1
        counters["officer_total"][f"{row['team']}|{row['officer']}|{row['metric']}"][claim] += 1
    return {name: dict(rows) for name, rows in counters.items()}


async def publish(bootstrap: str, rows: list[dict[str, Any]]) -> list[bytes]:
    """Every row once in batches of up to 200 per key, then the first batch of a few keys again
    (a message read again) and a batch that follows facts its key never had (held back)."""
    messages: list[tuple[str, bytes]] = []
    first: list[tuple[str, bytes]] = []
    for key, chunks in batches_by_key(rows, 200).items():
        for number, facts in enumerate(chunks):
            messages.append((key, encode_batch(key, facts)))
            if number == 0 and len(first) < READ_AGAIN:
                first.append(messages[-1])
    key, raw = first[0]
    late = [list(fact) for fact in decode_fact_rows(raw).rows[:5]]
    for offset, fact in enumerate(late):
        fact[F.SEQ] = 10 * FACTS_COUNT + offset
    messages += [*first, (key, encode_batch(key, late, prev_seq=10 * FACTS_COUNT - 7))]
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", enable_idempotence=True,
                                max_request_size=4 * 1024 * 1024)
    await producer.start()
    try:
        sent = [await producer.send(FACTS.name, value, key=fact_key(key)) for key, value in messages]
        await asyncio.gather(*sent)
    finally:
        await producer.stop()
    return [value for _, value in messages]


async def test_kafka_streams_peer_keeps_the_aggregators_counters(own_broker, tmp_path):
    await ensure_topics(own_broker.bootstrap)
    rows = list(synthetic_rows(FACTS_COUNT))
    messages = await publish(own_broker.bootstrap, rows)
    published = sum(len(decode_fact_rows(m).rows) for m in messages)
    expected = independent_counters(rows)
    deltas, _ = fold([decode_fact_rows(m) for m in messages], {})
    assert fold_counters(deltas) == expected  # the bench checks the peer against the fold

    result = await asyncio.to_thread(peer_in_process, own_broker.bootstrap, published, tmp_path, fold_counters(deltas),
                                     restore_check=True, keep_counters=True, timeout_s=120)

    assert "error" not in result, result.get("error")
    assert result["complete"] and result["facts"] == published
    assert result["applied"] == FACTS_COUNT
    assert result["skipped"] == published - FACTS_COUNT
    assert result["counters"] == expected
    assert result["restored"] == expected
    assert sum(c[1] for c in expected["officer_total"].values()) > 0  # duplicate claims were counted
    print(f"\nKafka Streams peer: {result['facts']} facts at {result['eps']:,.0f} facts/s, "
          f"first message after {result['first_message_after_s']:.1f} s, restore {result['restore_s']:.1f} s")

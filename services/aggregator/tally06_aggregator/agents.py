"""The aggregator's agents: count facts into PostgreSQL, publish progress, watch the broker."""

from __future__ import annotations

import asyncio
import datetime as dt
import time

import structlog
from prometheus_client import Counter, Gauge, Histogram

from tally06.contract.events import F, local_day
from tally06.contract.topics import FACTS, PROGRESS
from tally06.kit.faust_app import errors_stop_the_worker, waits_out_database_outages
from tally06.store.projection_lag import read_model_backlog
from tally06.store.read_model_map import read_model_map, switch_if_due
from tally06.store.reconciliation import reconcile_step
from tally06_aggregator.app import app, settings
from tally06_aggregator.committer import GroupCommitter
from tally06_aggregator.decode import decode_batch
from tally06_aggregator.progress import progress_messages, snapshot_messages
from tally06_aggregator.reread import held_back, partitions_to_reread
from tally06_aggregator.runtime import Runtime

log = structlog.get_logger(__name__)

APPLIED = Counter("tally06_aggregator_facts_applied_total", "Facts counted into the read model")
SKIPPED = Counter("tally06_aggregator_facts_skipped_total", "Facts already counted (redelivered)")
FRESHNESS = Histogram(
    "tally06_aggregator_freshness_seconds", "From acceptance by ingest to visible in the read model",
    buckets=(0.05, 0.1, 0.25, 0.5, 0.75, 1, 2, 5, 10, 30, 60),
)

GAPS = Counter("tally06_aggregator_batches_held_back_total",
               "Fact batches not counted because facts before them were missing (read again)")
READ_AGAIN = Counter("tally06_aggregator_partitions_read_again_total",
                     "Partitions read again from their start after a message came before facts it follows")
READ_AGAIN_AT: dict = {}  # partition -> when it was last read again (time.monotonic())
HELD_BACK: dict = {}  # partition -> when a message of it was first held back since the last reading
PROGRESS_LOST = Counter("tally06_aggregator_progress_not_delivered_total",
                        "Progress messages the broker did not take (the unit's next change heals it)")
BACKLOG = Gauge("tally06_aggregator_backlog_events", "Stored events the counters do not include yet (end-to-end lag)")

runtime = Runtime(settings)
facts_topic = app.topic(FACTS.name, value_serializer="raw", key_serializer="raw")


@app.agent(facts_topic)
async def count(stream) -> None:  # noqa: ANN001 - Faust's stream type
    projector = await runtime.projector()

    async def committed(events: list, result: tuple) -> None:
        deltas, daily, total = result
        waiting = (held_back([(b[0], b[2]) for b in map(decode_batch, (e.value for e in events))], deltas.gaps)
                   if deltas.gaps else [False] * len(events))
        for event, wait in zip(events, waiting, strict=True):
            if wait:
                HELD_BACK.setdefault(event.message.tp, time.monotonic())
            else:
                await stream.ack(event)
        APPLIED.inc(deltas.applied)
        SKIPPED.inc(deltas.skipped)
        if deltas.gaps:
            GAPS.inc(len(deltas.gaps))
            key, prev_seq, position = deltas.gaps[0]
            log.warning("facts_held_back_missing_earlier", batches=len(deltas.gaps), key=key,
                        prev_seq=prev_seq, position=position)
        if deltas and settings.publish_progress:
            # Straight to the producer's accumulator: a replay step changes tens of thousands of
            # (unit, day) rows, and Faust's per-message send path held the next step back for
            # seconds. Values are absolute, so a lost message is healed by the next change.
            for key, value in progress_messages(daily, total, dt.datetime.now(dt.UTC)):
                delivery = await app.producer.send(PROGRESS.name, key, value, None, None, None)
                # Faust annotates send() as Awaitable[RecordMetadata]; it hands back aiokafka's asyncio.Future.
                delivery.add_done_callback(_count_failed_delivery)  # type: ignore[attr-defined]

    committer = GroupCommitter(projector.apply, committed, max_pending_facts=settings.max_pending_facts)
    with errors_stop_the_worker():
        async for events in stream.noack_take(settings.take_max_messages, within=settings.take_within_s):
            batches = [decode_batch(event.value) for event in events]
            _observe_freshness(batches)
            await committer.submit(events, [event.value for event in events], batches)


def _count_failed_delivery(delivery: asyncio.Future) -> None:
    if not delivery.cancelled() and delivery.exception() is not None:
        PROGRESS_LOST.inc()


def _observe_freshness(batches: list) -> None:
    # One sample per message (its newest fact) keeps this cheap; measured when the batch is
    # taken, so it reads slightly low by the commit time of its step.
    now = time.time()
    for _, facts, _ in batches:
        if facts:
            received = dt.datetime.fromisoformat(facts[-1][F.RECEIVED_AT]).timestamp()
            FRESHNESS.observe(max(0.0, now - received))


@app.timer(interval=settings.reread_quiet_s)
async def read_held_back_again() -> None:
    """Read the partitions of held-back messages again from their start
    (``tally06_aggregator.reread``); during a rebalance the new assignment seeks by itself."""
    if not HELD_BACK or app.rebalancing:
        return
    now, assigned = time.monotonic(), set(app.consumer.assignment())
    tps = partitions_to_reread(HELD_BACK, assigned, READ_AGAIN_AT, now, settings.reread_quiet_s)
    for tp in [tp for tp in HELD_BACK if tp not in assigned] + tps:
        del HELD_BACK[tp]
    for tp in tps:
        READ_AGAIN_AT[tp] = now
        await app.consumer.seek(tp, 0)
    if tps:
        READ_AGAIN.inc(len(tps))
        log.warning("partitions_read_again_after_held_back", partitions=[tp.partition for tp in tps])


@app.timer(interval=settings.epoch_check_s)
@waits_out_database_outages
async def follow_broker_epoch() -> None:
    """When the relay found the broker without its log, read the new log from the start.

    Positions beyond the end of a fresh, shorter log would otherwise leave this worker waiting
    for offsets that will not come for a long time.
    """
    pool = await runtime.pool()
    epoch = await pool.fetchval("SELECT broker_epoch FROM relay_state")
    if runtime.broker_epoch is None:
        runtime.broker_epoch = epoch
        return
    if epoch != runtime.broker_epoch:
        if app.rebalancing or not app.consumer.assignment():
            # A rebalance seeks to the committed offsets itself, and a broker that lost its log
            # lost those too; seeking partitions in the middle of it can leave them stuck.
            return
        runtime.broker_epoch = epoch
        assigned = sorted(app.consumer.assignment())
        for tp in assigned:
            await app.consumer.seek(tp, 0)
        log.warning("broker_log_lost_rereading", broker_epoch=epoch, partitions=len(assigned))


@app.timer(interval=settings.map_check_s)
@waits_out_database_outages
async def follow_map_in_force() -> None:
    """Bring the read model to the map in force (the switch pauses counting while it re-sums),
    and when it is in another map than before, however it got there (this timer, another
    worker, ``tally06 org load`` or a rebuild), publish every unit's figures so that consumers of
    the progress stream follow it into the new map."""
    async with (await runtime.pool()).acquire() as conn:
        switched = await switch_if_due(conn)
        if switched is not None:
            log.info("read_model_map_switched", map_id=switched.map_id, previous=switched.previous,
                     rows=switched.rows, seconds=round(switched.seconds, 2))
        live = await read_model_map(conn)
        seen = runtime.read_model_map
        if seen is None:
            seen = switched.previous if switched is not None else live
        if live == seen or not settings.publish_progress:
            runtime.read_model_map = live
            return
        now = dt.datetime.now(dt.UTC)
        day = local_day(now)
        daily = await conn.fetch("SELECT unit, day, metric, credited, claims, version FROM unit_daily "
                                 "WHERE day = $1", day)
        total = await conn.fetch("SELECT unit, metric, credited, claims, version FROM unit_total")
    for key, value in snapshot_messages(daily, total, day, now):
        delivery = await app.producer.send(PROGRESS.name, key, value, None, None, None)
        delivery.add_done_callback(_count_failed_delivery)  # type: ignore[attr-defined]
    runtime.read_model_map = live
    log.info("progress_published_for_map", map_id=live, units=len({r["unit"] for r in total}))


@app.timer(interval=settings.reconcile_s)
@waits_out_database_outages
async def judge_claims() -> None:
    """Judge activation claims against the registry; registry counters go out on the progress
    stream like the others."""
    rules = settings.reconcile_rules()
    async with (await runtime.pool()).acquire() as conn:
        while True:
            step = await reconcile_step(conn, rules)
            if step.changed:
                log.info("claims_judged", claims=step.claims, citizens=step.citizens, changed=step.changed)
                if settings.publish_progress:
                    for key, value in progress_messages(step.daily, step.total, dt.datetime.now(dt.UTC)):
                        delivery = await app.producer.send(PROGRESS.name, key, value, None, None, None)
                        delivery.add_done_callback(_count_failed_delivery)  # type: ignore[attr-defined]
            if not step.more:
                return


@app.timer(interval=5.0)
@waits_out_database_outages
async def measure_backlog() -> None:
    async with (await runtime.pool()).acquire() as conn:
        BACKLOG.set(await read_model_backlog(conn))

"""The notifier's agent and timers: changes make it look again; time moves expectations."""

from __future__ import annotations

import orjson
import structlog

from tally06.contract.topics import PROGRESS
from tally06.kit.faust_app import waits_out_database_outages
from tally06_notifier.app import app, settings
from tally06_notifier.rules import heard_from
from tally06_notifier.runtime import Runtime

log = structlog.get_logger(__name__)
runtime = Runtime(settings)
progress_topic = app.topic(PROGRESS.name, value_serializer="raw", key_serializer="raw")


@app.agent(progress_topic)
async def watch_progress(stream) -> None:  # noqa: ANN001 - Faust's stream type
    """Remember who was heard from, then judge at once, so a unit that caught up clears quickly.
    Registry counters (an extract reconciled) come on the same stream: they are judged too
    (low_confirmation), but do not count as the team being heard from."""
    async for values in stream.take(1000, within=0.5):
        changes = [orjson.loads(value) for value in values]
        await runtime.saw_changes({change["unit"] for change in changes if heard_from(change)})
        await runtime.evaluate()


@app.timer(interval=settings.notifier_tick_s)
@waits_out_database_outages
async def judge_on_the_clock() -> None:
    await runtime.evaluate()


@app.timer(interval=settings.notifier_deliver_s)
@waits_out_database_outages
async def deliver() -> None:
    await runtime.deliver()

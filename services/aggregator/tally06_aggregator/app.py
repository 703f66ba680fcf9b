"""The Faust application of the aggregator, and nothing else."""

from __future__ import annotations

import faust

from tally06_aggregator.settings import AggregatorSettings
from tally06_aggregator.transport import SCHEME

settings = AggregatorSettings()


def _broker_urls(bootstrap: str) -> str:
    return ";".join(f"{SCHEME}://{host.strip()}" for host in bootstrap.split(",") if host.strip())


app = faust.App(
    settings.aggregator_app_id,
    broker=_broker_urls(settings.kafka_bootstrap),
    # The read model in PostgreSQL is the state; Faust keeps none (no tables, no changelogs).
    store="memory://",
    key_serializer="raw",
    value_serializer="raw",
    topic_disable_leader=True,
    topic_allow_declare=False,
    consumer_auto_offset_reset="earliest",
    broker_session_timeout=settings.session_timeout_s,
    broker_rebalance_timeout=settings.rebalance_timeout_s,
    broker_heartbeat_interval=settings.heartbeat_interval_s,
    web_enabled=True,
    web_bind=settings.host,
    web_port=settings.aggregator_port,
    web_in_thread=False,
    autodiscover=False,
)

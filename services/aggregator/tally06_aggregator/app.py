"""The Faust application of the aggregator, and nothing else."""

from __future__ import annotations

from tally06.kit.faust_app import make_app
from tally06_aggregator.settings import AggregatorSettings

settings = AggregatorSettings()

# The read model in PostgreSQL is the state: a new group reads the facts from the start.
app = make_app(
    settings.aggregator_app_id, settings, host=settings.host, port=settings.aggregator_port,
    offset_reset="earliest", session_timeout_s=settings.session_timeout_s,
    rebalance_timeout_s=settings.rebalance_timeout_s, heartbeat_interval_s=settings.heartbeat_interval_s,
)

"""The Faust application of the aggregator, and nothing else."""

from __future__ import annotations

from tally06.kit.faust_app import worker_app
from tally06_aggregator.settings import AggregatorSettings

settings = AggregatorSettings()

# The read model in PostgreSQL is the state: a new group reads the facts from the start.
app = worker_app(settings, settings.aggregator_app_id, settings.aggregator_port, offset_reset="earliest")

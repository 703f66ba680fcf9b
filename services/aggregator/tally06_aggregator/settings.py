"""Settings of the aggregator."""

from __future__ import annotations

from tally06.kit.service_settings import WorkerSettings
from tally06_aggregator import committer


class AggregatorSettings(WorkerSettings):
    aggregator_port: int = 8063
    """Faust's web server gives each worker /healthz and /metrics; every worker needs its own port."""
    aggregator_app_id: str = "tally06-aggregator"
    take_max_messages: int = 200
    """A projection step takes up to this many messages (each up to 500 facts) ..."""
    take_within_s: float = 0.05
    """... or what arrived within this time, whichever comes first."""
    max_pending_facts: int = committer.DEFAULT_MAX_PENDING_FACTS
    """Facts gathered while a step is written before consumption pauses (the reasons of the
    default are in ``tally06_aggregator.committer``)."""
    epoch_check_s: float = 2.0
    reread_quiet_s: float = 5.0
    """A partition read again after a held-back message is not read again for this long
    (``tally06_aggregator.reread``)."""
    map_check_s: float = 10.0
    """How often a worker checks that the read model is in the map in force (a map loaded for a
    future day takes effect at local midnight); the switch itself re-sums the unit rows."""
    reconcile_s: float = 1.0
    """How often a worker judges new activation claims and registry changes (docs/registry.md);
    a step that finds nothing costs three indexed look-ups."""
    publish_progress: bool = True

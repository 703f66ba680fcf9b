"""The Faust application of the notifier, and nothing else."""

from __future__ import annotations

from tally06.kit.faust_app import make_app
from tally06_notifier.settings import NotifierSettings

settings = NotifierSettings()

# Progress changes only say "look again"; history from before this worker says nothing new.
app = make_app(
    settings.notifier_app_id, settings, host=settings.host, port=settings.notifier_port,
    offset_reset="latest", session_timeout_s=settings.session_timeout_s,
    rebalance_timeout_s=settings.rebalance_timeout_s, heartbeat_interval_s=settings.heartbeat_interval_s,
)

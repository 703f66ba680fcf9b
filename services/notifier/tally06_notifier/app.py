"""The Faust application of the notifier, and nothing else."""

from __future__ import annotations

from tally06.kit.faust_app import worker_app
from tally06_notifier.settings import NotifierSettings

settings = NotifierSettings()

# Progress changes only say "look again"; history from before this worker says nothing new.
app = worker_app(settings, settings.notifier_app_id, settings.notifier_port, offset_reset="latest")

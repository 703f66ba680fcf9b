"""The Faust app of a worker, configured from its settings."""

from __future__ import annotations

import faust

from tally06.faust_service import make_app
from tally06.kit.service_settings import WorkerSettings


def worker_app(settings: WorkerSettings, app_id: str, port: int, *, offset_reset: str) -> faust.App:
    """``app_id`` (the consumer group) and ``port`` are fields each worker names after itself."""
    return make_app(
        app_id, settings, host=settings.host, port=port, offset_reset=offset_reset,
        session_timeout_s=settings.session_timeout_s, rebalance_timeout_s=settings.rebalance_timeout_s,
        heartbeat_interval_s=settings.heartbeat_interval_s,
    )

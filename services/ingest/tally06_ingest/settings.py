"""Settings of the ingest service and its outbox relay."""

from __future__ import annotations

from tally06.settings import CommonSettings


class IngestSettings(CommonSettings):
    host: str = "127.0.0.1"
    ingest_port: int = 8061
    ingest_workers: int = 1
    max_body_bytes: int = 1024 * 1024
    max_batch_events: int = 500
    # Device clocks drift; an event further in the future than this is refused.
    future_tolerance_s: float = 600.0
    token_cache_s: float = 30.0
    org_refresh_s: float = 30.0
    pool_size: int = 8


class RelaySettings(CommonSettings):
    host: str = "127.0.0.1"
    relay_port: int = 8064
    # A round reads this many committed events; grouped by district they make messages of up
    # to relay_facts_per_message facts. Large rounds keep a catch-up fast.
    relay_batch_rows: int = 20_000
    relay_facts_per_message: int = 500
    relay_probe_interval_s: float = 3.0
    relay_idle_wait_s: float = 0.5

"""Settings of the ingest service and its outbox relay."""

from __future__ import annotations

from tally06.kit.service_settings import HttpServiceSettings, ServiceSettings


class IngestSettings(HttpServiceSettings):
    ingest_port: int = 8061
    ingest_workers: int = 1
    max_body_bytes: int = 1024 * 1024
    max_batch_events: int = 500
    # Device clocks drift; an event further in the future than this is refused.
    future_tolerance_s: float = 600.0
    token_cache_s: float = 30.0

    # Abuse limits (docs/abuse-limits.md). Buckets live in each worker process's memory, so a
    # deployment allows these figures once per worker process. 0 switches a limit off.
    # Posts per device token: a team's phones post one batch at a time every minute or two; the
    # burst covers a whole team's phones coming back online and retrying at once.
    rate_limit_per_s: float = 10.0
    rate_limit_burst: int = 100
    # Events per device token and minute; a whole minute's worth may come at once (a phone's
    # backlog after days in the hills), far above what a team records, so only a leaked token
    # or a broken client meets it.
    rate_limit_events_per_minute: int = 30_000
    # Token look-ups that found no active token, per client address (IPv6: per /64). Once an
    # address used them up, it gets 429 for any token not already in the cache, without a
    # database look-up: guessing tokens stays slow and cheap.
    auth_failure_per_s: float = 0.5
    auth_failure_burst: int = 20
    # Buckets kept at most per limit; idle ones are forgotten first.
    rate_limit_max_keys: int = 100_000
    # The whole body must arrive within this after ingest starts reading it (else 408).
    body_timeout_s: float = 15.0
    # Idle keep-alive connections are closed after this. Longer than the idle timeout of the
    # proxy in front (Caddy keeps idle upstream connections 2 minutes, nginx and most load
    # balancers 60 s), so the proxy never sends a post on a connection ingest just closed.
    keep_alive_timeout_s: int = 125
    # An officer credited with more account activations than this in one local hour is flagged
    # for review (one activation takes about 90 s of a person's time). 0 switches it off.
    implausible_activations_per_hour: int = 40


class RelaySettings(ServiceSettings):
    relay_port: int = 8064
    # A round reads this many committed events; grouped by key (commune) they make messages of up
    # to relay_facts_per_message facts. Large rounds keep a catch-up fast.
    relay_batch_rows: int = 20_000
    relay_facts_per_message: int = 500
    relay_probe_interval_s: float = 3.0
    relay_idle_wait_s: float = 0.5
    # A round not acknowledged within this is given up and redone (the brokers lack a leader or
    # in-sync replicas); longer than a leader election takes.
    relay_round_timeout_s: float = 30.0

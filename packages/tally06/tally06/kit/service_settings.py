"""Settings bases of the service processes, on top of what every command shares.

Field names are environment variables (``TALLY06_<FIELD>``) that deploy manifests set, so a
field moves between these classes only with its name and default unchanged. That is also why
each service keeps its own port field: the variable names the service (``TALLY06_INGEST_PORT``).
"""

from __future__ import annotations

from tally06.kit.settings import CommonSettings


class ServiceSettings(CommonSettings):
    """A process that listens on a port (its API, its health pages)."""

    host: str = "127.0.0.1"


class HttpServiceSettings(ServiceSettings):
    """The FastAPI services: a database pool, the org registry in memory, a proxy in front."""

    pool_size: int = 8
    org_refresh_s: float = 30.0
    # Proxies whose X-Forwarded-For names the client (the address the abuse limits count by).
    forwarded_allow_ips: str = "127.0.0.1,::1"


class WorkerSettings(ServiceSettings):
    """The Faust workers: how soon their consumer group notices a worker gone."""

    # Kafka's group coordinator moves a dead worker's partitions once its session expires (a
    # worker that stops cleanly leaves at once): 10 s is ten heartbeats, within the broker's
    # allowed range (group.min.session.timeout.ms is 6 s), where the client default of 45 s
    # would leave a SIGKILLed worker's communes uncounted that long. Once a rebalance begins, the
    # coordinator waits up to the rebalance timeout for every member to join again; a live
    # worker rejoins at its next heartbeat, so 6 s only drops a worker stuck finishing its step
    # (it joins again after) instead of stalling the whole group for Faust's default 60 s.
    session_timeout_s: float = 10.0
    rebalance_timeout_s: float = 6.0
    heartbeat_interval_s: float = 1.0

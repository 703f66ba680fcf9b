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

    # A dead worker's partitions move after the session timeout; Tansu also holds a join for
    # part of the rebalance timeout, so long Faust defaults (60 s) mean a minute of silence.
    session_timeout_s: float = 10.0
    rebalance_timeout_s: float = 6.0
    heartbeat_interval_s: float = 1.0

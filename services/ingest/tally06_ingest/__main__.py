"""Run the ingest service: ``python -m tally06_ingest``."""

from __future__ import annotations

import uvicorn

from tally06.kit.ports import require_free_port_or_exit
from tally06.kit.structured_logging import configure_logging
from tally06_ingest.settings import IngestSettings


def main() -> None:
    settings = IngestSettings()
    configure_logging(settings.log_level, settings.log_json, service="ingest")
    require_free_port_or_exit("ingest", settings.host, settings.ingest_port)
    # Several worker processes share the port; each builds its own app (pool, caches) from the
    # environment, so the CPU-bound parsing and validation use every core.
    uvicorn.run(
        "tally06_ingest.app:app_from_environment",
        factory=True,
        workers=settings.ingest_workers,
        host=settings.host,
        port=settings.ingest_port,
        log_config=None,
        access_log=False,
        timeout_graceful_shutdown=10,
        timeout_keep_alive=settings.keep_alive_timeout_s,
        # The abuse limits count unknown tokens per client address: behind a proxy that is the
        # address the proxy names, trusted only from these hosts.
        proxy_headers=True,
        forwarded_allow_ips=settings.forwarded_allow_ips,
    )


if __name__ == "__main__":
    main()

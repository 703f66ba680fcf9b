"""Run the ingest service: ``python -m tally06_ingest``."""

from __future__ import annotations

import uvicorn

from tally06.ports import require_free_port_or_exit
from tally06.structured_logging import configure_logging
from tally06_ingest.app import create_app
from tally06_ingest.settings import IngestSettings


def main() -> None:
    settings = IngestSettings()
    configure_logging(settings.log_level, settings.log_json, service="ingest")
    require_free_port_or_exit("ingest", settings.host, settings.ingest_port)
    uvicorn.run(
        create_app(settings),
        host=settings.host,
        port=settings.ingest_port,
        log_config=None,
        access_log=False,
        timeout_graceful_shutdown=10,
    )


if __name__ == "__main__":
    main()

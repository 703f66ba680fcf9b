"""Run the ingest service: ``python -m tally06_ingest``."""

from __future__ import annotations

import sys

import uvicorn

from tally06.exceptions import ComponentStartError
from tally06.ports import require_free_port
from tally06.structured_logging import configure_logging
from tally06_ingest.app import create_app
from tally06_ingest.settings import IngestSettings


def main() -> None:
    settings = IngestSettings()
    configure_logging(settings.log_level, settings.log_json, service="ingest")
    try:
        require_free_port("ingest", settings.host, settings.ingest_port)
    except ComponentStartError as exc:
        print(f"error: {exc}", file=sys.stderr)
        raise SystemExit(exc.exit_code) from None
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

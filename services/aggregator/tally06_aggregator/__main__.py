"""Run one aggregator worker: ``python -m tally06_aggregator``."""

from __future__ import annotations

import asyncio
import sys

from faust.worker import Worker

from tally06.exceptions import ComponentStartError
from tally06.ports import require_free_port
from tally06.structured_logging import configure_logging
from tally06.topics import ensure_topics


def main() -> None:
    from tally06_aggregator import agents, web  # noqa: F401 - registers agents, timers and pages
    from tally06_aggregator.app import app, settings

    configure_logging(settings.log_level, settings.log_json, service="aggregator")
    try:
        require_free_port("aggregator", settings.host, settings.aggregator_port)
    except ComponentStartError as exc:
        print(f"error: {exc}", file=sys.stderr)
        raise SystemExit(exc.exit_code) from None
    asyncio.run(ensure_topics(settings.kafka_bootstrap))
    # Our structlog set-up stays in charge: one JSON object per line, like the other services.
    Worker(app, loglevel=settings.log_level.lower(), quiet=True, redirect_stdouts=False,
           override_logging=False).execute_from_commandline()


if __name__ == "__main__":
    main()

"""Run one aggregator worker: ``python -m tally06_aggregator``."""

from __future__ import annotations

import asyncio
from faust.worker import Worker

from tally06.ports import require_free_port_or_exit
from tally06.structured_logging import configure_logging
from tally06.topics import ensure_topics


def main() -> None:
    from tally06_aggregator import agents, web  # noqa: F401 - registers agents, timers and pages
    from tally06_aggregator.app import app, settings

    configure_logging(settings.log_level, settings.log_json, service="aggregator")
    require_free_port_or_exit("aggregator", settings.host, settings.aggregator_port)
    asyncio.run(ensure_topics(settings.kafka_bootstrap, settings.topic_replication_factor))
    # Our structlog set-up stays in charge: one JSON object per line, like the other services.
    Worker(app, loglevel=settings.log_level.lower(), quiet=True, redirect_stdouts=False,
           override_logging=False).execute_from_commandline()


if __name__ == "__main__":
    main()

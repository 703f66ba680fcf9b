"""Run one aggregator worker: ``python -m tally06_aggregator``."""

from __future__ import annotations

from tally06.kit.faust_app import run_worker


def main() -> None:
    from tally06_aggregator import agents, web  # noqa: F401 - registers agents, timers and pages
    from tally06_aggregator.app import app, settings

    run_worker("aggregator", app, settings, settings.host, settings.aggregator_port)


if __name__ == "__main__":
    main()

"""Run one notifier worker: ``python -m tally06_notifier``."""

from __future__ import annotations

from tally06.kit.faust_app import run_worker


def main() -> None:
    from tally06_notifier import agents, web  # noqa: F401 - registers the agent, timers and pages
    from tally06_notifier.app import app, settings

    run_worker("notifier", app, settings, settings.host, settings.notifier_port)


if __name__ == "__main__":
    main()

"""Run the wallboard service: ``python -m tally06_wallboard``."""

from __future__ import annotations

import uvicorn

from tally06.kit.ports import require_free_port_or_exit
from tally06.kit.structured_logging import configure_logging
from tally06_wallboard.app import create_app
from tally06_wallboard.settings import WallboardSettings


def main() -> None:
    settings = WallboardSettings()
    configure_logging(settings.log_level, settings.log_json, service="wallboard")
    require_free_port_or_exit("wallboard", settings.host, settings.wallboard_port)
    uvicorn.run(
        create_app(settings),
        host=settings.host,
        port=settings.wallboard_port,
        log_config=None,
        access_log=False,
        proxy_headers=True,
        forwarded_allow_ips=settings.forwarded_allow_ips,
        # Open event streams never end by themselves; boards reconnect to the next process.
        timeout_graceful_shutdown=3,
    )


if __name__ == "__main__":
    main()

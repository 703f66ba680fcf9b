"""Errors of starting and configuring a service or an embedded component."""

from tally06.exceptions import Tally06Error


class ComponentStartError(Tally06Error):
    """An embedded component (database, broker, service) could not start."""

    def __init__(self, component: str, reason: str, exit_code: int = 3) -> None:
        super().__init__(f"{component}: {reason}")
        self.component = component
        self.reason = reason
        self.exit_code = exit_code


class ConfigError(Tally06Error):
    """A setting has a value the service cannot work with."""

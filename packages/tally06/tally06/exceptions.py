"""Errors of the shared tally06 package."""


class Tally06Error(Exception):
    """Base of every error raised on purpose by tally06."""


class OrgError(Tally06Error):
    """The organisation registry is inconsistent or a CSV row is invalid."""


class KeyConfigError(Tally06Error):
    """Keys for personal-data protection are missing or malformed."""


class ComponentStartError(Tally06Error):
    """An embedded component (database, broker, service) could not start."""

    def __init__(self, component: str, reason: str, exit_code: int = 3) -> None:
        super().__init__(f"{component}: {reason}")
        self.component = component
        self.reason = reason
        self.exit_code = exit_code


class ConfigError(Tally06Error):
    """A setting has a value the service cannot work with."""


class UserError(Tally06Error):
    """A user account cannot be created or changed as asked."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message

"""Errors of the domain: an inconsistent org, unusable keys, an account that cannot be made."""

from tally06.exceptions import Tally06Error


class OrgError(Tally06Error):
    """The organisation registry is inconsistent or a CSV row is invalid."""


class KeyConfigError(Tally06Error):
    """Keys for personal-data protection are missing or malformed."""


class UserError(Tally06Error):
    """A user account cannot be created or changed as asked."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message

"""Errors of the domain: an inconsistent org, unusable keys, an account that cannot be made, a
village that cannot be given to a team."""

from tally06.exceptions import FieldError, Tally06Error


class OrgError(Tally06Error):
    """The organisation registry is inconsistent or a CSV row is invalid."""


class KeyConfigError(Tally06Error):
    """Keys for personal-data protection are missing or malformed."""


class UserError(FieldError):
    """A user account cannot be created or changed as asked."""


class WorkAreaError(FieldError):
    """A village or commune that cannot be given to a team."""

"""Errors of reading a file as a whole (bad rows are ``RowError``s, not exceptions)."""

from tally06.exceptions import Tally06Error


class TargetsImportError(Tally06Error):
    """The file as a whole is unusable (unreadable, or no recognisable header)."""


class RegistryExtractError(Tally06Error):
    """A registry extract as a whole is unusable (not CSV or XLSX, unreadable, not UTF-8)."""

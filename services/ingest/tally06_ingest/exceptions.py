"""Errors of the ingest service."""

from tally06.exceptions import Tally06Error


class EnvelopeError(Tally06Error):
    """The request as a whole cannot be read; carries the HTTP status to answer with."""

    def __init__(self, status: int, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.status = status
        self.field = field
        self.message = message


class StoreUnavailable(Tally06Error):
    """The event store could not commit; nothing of the batch was accepted."""

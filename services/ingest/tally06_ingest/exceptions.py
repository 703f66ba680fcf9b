"""Errors of the ingest service."""

from collections.abc import Mapping

from tally06.exceptions import Tally06Error


class EnvelopeError(Tally06Error):
    """The request as a whole cannot be read; carries the HTTP status to answer with."""

    def __init__(self, status: int, field: str, message: str,
                 headers: Mapping[str, str] | None = None) -> None:
        super().__init__(f"{field}: {message}")
        self.status = status
        self.field = field
        self.message = message
        self.headers = dict(headers or {})


class TooManyRequests(EnvelopeError):
    """An abuse limit refused the request; the client may retry after ``retry_after_s``."""

    def __init__(self, field: str, message: str, retry_after_s: int) -> None:
        super().__init__(429, field, message, {"Retry-After": str(retry_after_s)})
        self.retry_after_s = retry_after_s


class StoreUnavailable(Tally06Error):
    """The event store could not commit; nothing of the batch was accepted."""


class ProbeInconclusive(Tally06Error):
    """The broker did not say whether it holds the message."""


class BrokerLogLost(Tally06Error):
    """The broker no longer holds messages it acknowledged."""

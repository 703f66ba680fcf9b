"""Errors of the wallboard service, answered as {"detail": [{"field", "message"}]}."""

from tally06.exceptions import Tally06Error


class NotFound(Tally06Error):
    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


class InvalidRequest(NotFound):
    """A parameter the schema accepts but the request cannot be served with (answered 422)."""


class Unauthenticated(NotFound):
    """No session, or one that expired, was tampered with or was ended (answered 401)."""


class Forbidden(NotFound):
    """A signed-in user asked for something outside their role or their units (answered 403)."""


class TooManyAttempts(NotFound):
    """Sign-in refused for a while after wrong passwords (answered 429 with Retry-After)."""

    def __init__(self, field: str, message: str, retry_after_s: int) -> None:
        super().__init__(field, message)
        self.retry_after_s = retry_after_s


class Unavailable(NotFound):
    """Something this request needs is not configured or not reachable (answered 503)."""


class TooLarge(NotFound):
    """A request body over its limit (answered 413)."""

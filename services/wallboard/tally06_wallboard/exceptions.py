"""Errors of the wallboard service, answered as {"detail": [{"field", "message"}]} with the
status (and headers) each kind carries."""

from tally06.exceptions import Tally06Error


class WallboardError(Tally06Error):
    status = 400

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message

    @property
    def headers(self) -> dict[str, str] | None:
        return None


class NotFound(WallboardError):
    status = 404


class InvalidRequest(WallboardError):
    """A parameter the schema accepts but the request cannot be served with."""

    status = 422


class Unauthenticated(WallboardError):
    """No session, or one that expired, was tampered with or was ended."""

    status = 401

    @property
    def headers(self) -> dict[str, str]:
        return {"WWW-Authenticate": "Bearer"}


class Forbidden(WallboardError):
    """A signed-in user asked for something outside their role or their units."""

    status = 403


class TooManyAttempts(WallboardError):
    """Sign-in refused for a while after wrong passwords."""

    status = 429

    def __init__(self, field: str, message: str, retry_after_s: int) -> None:
        super().__init__(field, message)
        self.retry_after_s = retry_after_s

    @property
    def headers(self) -> dict[str, str]:
        return {"Retry-After": str(self.retry_after_s)}


class Unavailable(WallboardError):
    """Something this request needs is not configured or not reachable."""

    status = 503


class TooLarge(WallboardError):
    """A request body over its limit."""

    status = 413

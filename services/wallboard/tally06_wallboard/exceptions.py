"""Errors of the wallboard service, answered as {"detail": [{"field", "message"}]}."""

from tally06.exceptions import Tally06Error


class NotFound(Tally06Error):
    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


class InvalidRequest(NotFound):
    """A parameter the schema accepts but the request cannot be served with (answered 422)."""

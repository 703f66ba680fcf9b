"""The root of every error tally06 raises on purpose; each layer's own errors derive from it
(``domain.exceptions``, ``imports.exceptions``, ``reports.exceptions``, ``kit.exceptions``)."""


class Tally06Error(Exception):
    """Base of every error raised on purpose by tally06."""


class FieldError(Tally06Error):
    """A request refused because of one input: ``field`` names it, ``message`` says why (an API
    answers it as a 4xx with both, a command prints both)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message

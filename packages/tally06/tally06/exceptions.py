"""The root of every error tally06 raises on purpose; each layer's own errors derive from it
(``domain.exceptions``, ``imports.exceptions``, ``reports.exceptions``, ``kit.exceptions``)."""


class Tally06Error(Exception):
    """Base of every error raised on purpose by tally06."""

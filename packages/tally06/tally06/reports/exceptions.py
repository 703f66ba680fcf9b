"""Errors of building a report: a cutoff or period it cannot be made for, an unknown unit."""

from tally06.exceptions import Tally06Error


class ReportError(Tally06Error):
    """A report cannot be made as asked (unknown unit, naive time, unit without children);
    ``field`` names what the asker gave wrong (cutoff, unit or map)."""

    def __init__(self, message: str, field: str = "cutoff") -> None:
        super().__init__(message)
        self.field = field

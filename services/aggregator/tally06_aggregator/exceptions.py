"""Errors of the aggregator."""

from tally06.exceptions import Tally06Error


class UnknownSchema(Tally06Error):
    """A fact batch of a schema version this aggregator cannot count; counting on would be wrong."""

"""Errors of the store layer that callers answer by field: an API as a 4xx naming the field, a
command as a message naming its option."""

from __future__ import annotations

from tally06.exceptions import FieldError


class SpotCheckError(FieldError):
    """A spot check asked for, or an outcome recorded, that cannot be: ``field`` says which input."""


class SpotCheckConflict(SpotCheckError):
    """An item already has another final outcome: the message names who recorded what (an API
    answers 409)."""

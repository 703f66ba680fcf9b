"""The one error type every importer reports bad rows with, by row, field and reason."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class RowError:
    """``row`` is 1-based as shown by Excel or a text editor (header rows counted)."""

    row: int
    field: str
    message: str

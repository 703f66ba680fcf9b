"""Registry extracts as the national system would send them, for the demo's fake people.

The simulator knows its citizens in clear (they are made up); this writes them in the format of
docs/registry-extracts.md, which ``tally06 registry import`` reads, so the demo exercises the
same path a province's real extract takes.
"""

from __future__ import annotations

import csv
import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from tally06.domain.registry import RegistryStatus
from tally06.imports.registry_words import COLUMNS


@dataclass(frozen=True)
class ExtractRow:
    """One citizen as the registry states it, in clear."""

    cccd: str
    status: RegistryStatus
    level: int
    commune: str
    full_name: str | None = None
    phone: str | None = None
    village: str | None = None
    collected_on: dt.date | None = None
    approved_on: dt.date | None = None
    activated_on: dt.date | None = None
    rejected_on: dt.date | None = None


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


def write_extract(path: Path, rows: Iterable[ExtractRow]) -> int:
    """Write ``rows`` as a CSV extract (UTF-8, English header, ISO days); returns how many."""
    written = 0
    with Path(path).open("w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(COLUMNS)
        for row in rows:
            writer.writerow([_cell(getattr(row, column)) for column in COLUMNS])
            written += 1
    return written

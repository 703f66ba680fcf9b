"""Where services read the time: one small port, so tests and the demo can move it.

Domain functions take ``now`` as an argument; only the service edges ask a clock. The notifier
and the wallboard decide "today" and "behind pace" from it, so an integration test can walk
through a working day in seconds (``file:``), and the demo can run in working hours at any hour
of the night (``offset:``).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Protocol

from tally06.kit.exceptions import ConfigError


class Clock(Protocol):
    def now(self) -> dt.datetime: ...


class SystemClock:
    def now(self) -> dt.datetime:
        return dt.datetime.now(dt.UTC)


class OffsetClock:
    """The wall clock shifted by a fixed amount; it still runs at real speed."""

    def __init__(self, offset: dt.timedelta) -> None:
        self.offset = offset

    def now(self) -> dt.datetime:
        return dt.datetime.now(dt.UTC) + self.offset


class FileClock:
    """The time written in a file (ISO 8601 with offset); a test moves it by rewriting the file."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def now(self) -> dt.datetime:
        moment = dt.datetime.fromisoformat(self.path.read_text("utf-8").strip())
        if moment.tzinfo is None:
            raise ConfigError(f"clock file {self.path} must hold an aware time, e.g. 2024-10-25T10:00+07:00")
        return moment.astimezone(dt.UTC)

    def set(self, moment: dt.datetime) -> None:
        # Written whole then renamed, so a reader never sees half a timestamp.
        part = self.path.with_suffix(".part")
        part.write_text(moment.isoformat(), "utf-8")
        part.replace(self.path)


def clock_from_setting(value: str) -> Clock:
    """``system`` (default), ``offset:SECONDS`` or ``file:PATH``."""
    kind, _, arg = value.partition(":")
    if kind == "system" and not arg:
        return SystemClock()
    if kind == "offset":
        try:
            return OffsetClock(dt.timedelta(seconds=float(arg)))
        except ValueError as exc:
            raise ConfigError(f"clock {value!r}: offset must be a number of seconds") from exc
    if kind == "file" and arg:
        return FileClock(Path(arg))
    raise ConfigError(f"clock {value!r}: use system, offset:SECONDS or file:PATH")

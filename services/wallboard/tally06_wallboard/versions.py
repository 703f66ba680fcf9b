"""Keep only progress that is newer than what was already passed on. Pure (state, no I/O).

The progress stream carries absolute counters with versions; after a reconnect, a broker whose
end offsets are too low, or a republish, older changes arrive again. Passing them on would make
boards step back for a moment, so each counter's highest version wins.
"""

from __future__ import annotations

from typing import Any


class NewestOnly:
    def __init__(self, max_entries: int = 200_000) -> None:
        # (unit, "total" | day, metric) -> version. A long-running service sees a new key per
        # unit and day; the cap bounds memory, forgetting everything when it is reached (the
        # worst outcome is one old value passed on, healed by the next change).
        self._seen: dict[tuple[str, str, str], int] = {}
        self._max = max_entries

    def newer(self, change: dict[str, Any]) -> dict[str, Any] | None:
        """The change with only the counters that moved forward, or None if nothing did."""
        if len(self._seen) > self._max:
            self._seen.clear()
        unit, day = change["unit"], change["day"]
        kept: dict[str, dict[str, Any]] = {"daily": {}, "total": {}}
        for scope, key in (("daily", day), ("total", "total")):
            for metric, count in (change.get(scope) or {}).items():
                slot = (unit, key, metric)
                if count["version"] > self._seen.get(slot, -1):
                    self._seen[slot] = count["version"]
                    kept[scope][metric] = count
        if not kept["daily"] and not kept["total"]:
            return None
        return {**change, **kept}

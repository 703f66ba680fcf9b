"""What the simulator sent and what ingest answered, to log and to return.

Only counts and server reasons are kept: reasons name the field, never its value, so the
statistics can be logged without leaking a citizen's CCCD, name or phone.
"""

from __future__ import annotations

import collections
from dataclasses import dataclass, field
from typing import Any


@dataclass
class SimulatorStats:
    generated: int = 0            # valid events the model produced (claims included)
    cross_team_claims: int = 0    # of which: a neighbour team re-claiming a citizen
    injected_invalid: collections.Counter[str] = field(default_factory=collections.Counter)
    batches: int = 0              # POSTs answered 200 (resends included)
    late_batches: int = 0         # batches sent by a device back from offline
    resent_batches: int = 0       # answered batches sent again (lost answer): all duplicates
    posted: int = 0               # items in answered POSTs
    accepted: int = 0
    duplicate: int = 0
    rejected: int = 0
    credited: int = 0             # accepted and the first for their citizen and counter
    not_credited: int = 0         # accepted, but someone was credited before
    rejected_by_reason: collections.Counter[str] = field(default_factory=collections.Counter)
    retries: int = 0              # attempts repeated after a network error or 429/5xx
    network_errors: int = 0
    server_errors: int = 0
    refused_batches: int = 0      # 4xx other than 429: not retried
    dropped_events: int = 0       # items never answered (refused, or given up at stop)
    sim_time: str | None = None
    caught_up: bool = False

    def record(self, answer: dict[str, Any]) -> None:
        """Count one 200 answer of POST /v1/events."""
        self.batches += 1
        for item in answer.get("results", ()):
            self.posted += 1
            status = item.get("status")
            if status == "accepted":
                self.accepted += 1
                if item.get("credited"):
                    self.credited += 1
                else:
                    self.not_credited += 1
            elif status == "duplicate":
                self.duplicate += 1
            else:
                self.rejected += 1
                for error in item.get("errors") or ({"field": "event", "message": "rejected"},):
                    self.rejected_by_reason[f"{error.get('field')}: {error.get('message')}"] += 1

    def as_dict(self) -> dict[str, Any]:
        out = dict(self.__dict__)
        out["injected_invalid"] = dict(self.injected_invalid)
        out["rejected_by_reason"] = dict(self.rejected_by_reason.most_common())
        return out

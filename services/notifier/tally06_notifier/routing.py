"""Who hears about an alert: the focal point one level above the unit, then one more on escalation."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from tally06.domain.focal_points import Recipient
from tally06.domain.org import OrgRegistry


def recipients_for(
    unit: str, org: OrgRegistry, focal_points: Mapping[str, Sequence[Recipient]], *, escalated: bool = False
) -> list[Recipient]:
    """A team's alert goes to its commune, a commune's to its district, a district's to the province.

    Escalation goes to the next level with people above that one. A level without a focal point on record is
    skipped upwards, so an alert never silently goes nowhere while someone above could act.
    """
    above = org.ancestors(unit)[1:]
    found = [(code, list(focal_points.get(code, ()))) for code in above]
    found = [(code, people) for code, people in found if people]
    index = 1 if escalated else 0
    return found[index][1] if len(found) > index else []


def dedupe_key(alert_id: int, what: str, recipient: Recipient) -> str:
    """Names one message to one person, so no path can send it twice."""
    return f"alert:{alert_id}:{what}:to:{recipient.id}"

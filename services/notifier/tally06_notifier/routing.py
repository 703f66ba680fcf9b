"""Who hears about an alert: the nearest focal points above the unit in the live map, then the
next ones up on escalation. Only the unit's ancestors are read, so any depth works: a team's
commune (or village), a commune's district or, in a two-tier province, the province itself, a
province's country."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from tally06.domain.focal_points import Recipient
from tally06.domain.org import OrgRegistry


def recipients_for(
    unit: str, org: OrgRegistry, focal_points: Mapping[str, Sequence[Recipient]], *, escalated: bool = False
) -> list[Recipient]:
    """The people of the nearest unit above ``unit`` that has any: a team's alert goes to its
    commune, a commune's to its district (or its province when there are no districts), and so on.

    Escalation goes to the next unit with people above that one. A unit without a focal point on
    record is skipped upwards, so an alert never silently goes nowhere while someone above could
    act; the search stops at the unit's root, so another province's people never hear of it.
    """
    above = org.ancestors(unit)[1:]
    found = [(code, list(focal_points.get(code, ()))) for code in above]
    found = [(code, people) for code, people in found if people]
    index = 1 if escalated else 0
    return found[index][1] if len(found) > index else []


def spot_check_recipients(unit: str, org: OrgRegistry,
                          focal_points: Mapping[str, Sequence[Recipient]]) -> list[Recipient]:
    """A failed spot check goes at once to the unit's own focal points and to the level above:
    the people of the first two units with any, from the unit itself upwards (a team has none of
    its own, so its commune and district hear). Someone on record for both hears once."""
    groups = [people for code in org.ancestors(unit) if (people := focal_points.get(code, ()))][:2]
    found: dict[int, Recipient] = {}
    for people in groups:
        for person in people:
            found.setdefault(person.id, person)
    return list(found.values())


def dedupe_key(alert_id: int, what: str, recipient: Recipient) -> str:
    """Names one message to one person, so no path can send it twice."""
    return f"alert:{alert_id}:{what}:to:{recipient.id}"

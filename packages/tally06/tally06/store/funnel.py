"""The funnel of a unit: installed → collected → approved → activated, and the days between.

Installed is what teams claim (the ``installed`` counter of the read model: installing the app
leaves no trace in the registry); the other stages are the registry's word on the citizens who
live in the unit. A citizen lives where ``domain.registry.residence_unit`` says: the village or
residential group when the map has it, else the commune; a unit's residents are those living
anywhere in its subtree of the live map.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, get_args

from tally06.contract.events import Metric
from tally06.store.org import Conn, map_in_force
from tally06.store.read_model_map import read_model_map

# registry_citizens living in unit $2's subtree of map $1 (village first, as residence_unit).
RESIDENTS = """
SELECT r.* FROM registry_citizens r
LEFT JOIN map_units v ON v.map_id = $1 AND v.code = r.village
LEFT JOIN map_units c ON c.map_id = $1 AND c.code = r.commune
WHERE coalesce(v.path, c.path) @> ARRAY[$2::text]
"""

# A stage counts everyone who reached it or a later one: an activated citizen was approved and
# collected. A rejected file was collected. Medians only over citizens with both days known.
_FUNNEL = f"""
WITH residents AS ({RESIDENTS})
SELECT count(*) AS collected,
       count(*) FILTER (WHERE status IN ('approved', 'activated')) AS approved,
       count(*) FILTER (WHERE status = 'activated') AS activated,
       percentile_cont(0.5) WITHIN GROUP (ORDER BY (approved_on - collected_on)::float8)
           FILTER (WHERE collected_on IS NOT NULL AND approved_on IS NOT NULL) AS collected_approved,
       percentile_cont(0.5) WITHIN GROUP (ORDER BY (activated_on - approved_on)::float8)
           FILTER (WHERE approved_on IS NOT NULL AND activated_on IS NOT NULL) AS approved_activated
FROM residents
"""

StageName = Literal["installed", "collected", "approved", "activated"]
STAGES: tuple[StageName, ...] = get_args(StageName)


@dataclass(frozen=True)
class Funnel:
    unit: str
    installed: int
    collected: int
    approved: int
    activated: int
    # Median whole days between the stages' registry dates; None without any citizen to measure.
    collected_to_approved: float | None
    approved_to_activated: float | None

    def stages(self) -> list[tuple[StageName, int]]:
        return [(stage, getattr(self, stage)) for stage in STAGES]


async def live_map_id(conn: Conn) -> int | None:
    """The map live figures are in: the read model's, else the map in force."""
    return await read_model_map(conn) or await map_in_force(conn)


async def unit_funnel(conn: Conn, unit: str, map_id: int | None = None) -> Funnel:
    """The funnel of a unit of any level of the map (the live map when not given)."""
    map_id = map_id if map_id is not None else await live_map_id(conn)
    installed = await conn.fetchval("SELECT credited FROM unit_total WHERE unit = $1 AND metric = $2",
                                    unit, Metric.INSTALLED.value)
    row = await conn.fetchrow(_FUNNEL, map_id, unit)
    assert row is not None  # an aggregate without GROUP BY always answers one row
    return Funnel(unit, int(installed or 0), row["collected"], row["approved"], row["activated"],
                  row["collected_approved"], row["approved_activated"])

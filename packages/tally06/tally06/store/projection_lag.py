"""How far the counters are behind the event store, in events: the pipeline's true lag.

Broker offsets tell how far a consumer is behind its topic, not whether a stored event has been
counted (and a recreated topic starts its offsets anew). Comparing the event store with the positions
the projection committed answers the question users care about: is the board complete?
"""

from __future__ import annotations

import asyncpg


async def read_model_backlog(conn: asyncpg.Connection) -> int:
    """Stored events the counters do not include yet (the aggregator's lag, in events).

    Judged on a read model that lags, a unit looks behind only because its events are still on
    their way; the notifier waits instead of raising alerts it would soon resolve; operators
    watch it as the aggregator's lag.
    """
    return await conn.fetchval(
        "SELECT count(*) FROM events e LEFT JOIN projection_positions p "
        "ON p.projection = 'counters' AND p.key = e.fact_key "
        "WHERE e.seq > (SELECT coalesce(min(position), 0) FROM projection_positions WHERE projection = 'counters') "
        "AND e.seq > coalesce(p.position, 0)")

"""The ingest section of `make bench` against ingest's production abuse limits (issue 15): its
closed loop posts far faster than any field phone, and with too few device tokens the per-token
limit answered 429 and stopped the benchmark. The smoke tests beside this one are too small to
meet that limit; this one runs the single-event section long enough to."""

import asyncio
import time
from pathlib import Path

from bench.components import Bench
from bench.ingest import INGEST_WORKERS, MODES, run_ingest
from tally06.domain.org import UnitKind
from tally06.imports.reference import demo_org
from tally06.kit.topic_admin import ensure_topics
from tally06.stack.embedded.kafka import EmbeddedKafka
from tally06_ingest.settings import IngestSettings

SINGLE = next(mode for mode in MODES if mode[0] == "single")
EVERY = 300  # 2 teams of the demo org: a token each would carry only a few hundred posts


class FixtureBench(Bench):
    """The bench's components, but the test session's PostgreSQL and a broker of the test's own."""

    def __init__(self, database: str, broker: EmbeddedKafka, workdir: Path) -> None:
        super().__init__(pg=None, broker=broker, workdir=workdir)  # type: ignore[arg-type]
        self.database = database

    async def fresh_database(self) -> str:
        return self.database


async def test_single_event_section_stays_within_the_production_token_limits(own_broker, database, tmp_path):
    # A broker of its own: the relay publishes every event the section posts.
    await ensure_topics(own_broker.bootstrap)
    began = time.perf_counter()
    result = await asyncio.wait_for(
        run_ingest(FixtureBench(database, own_broker, tmp_path), seconds=6.0, raw_events=0, modes=(SINGLE,),
                   every=EVERY), 60)
    # run_ingest stops at the first answer other than "all accepted" (a 429 included).
    single = result["single"]
    assert single["events"] == single["posts"] > 0
    # Long enough to matter: one token per team, at the production limits (a bucket per token
    # in each worker process, full at the start), could not have carried this many posts in the
    # whole run.
    limits, teams = IngestSettings(), len(list(demo_org().units(UnitKind.TEAM))[::EVERY])
    per_token = limits.rate_limit_burst + limits.rate_limit_per_s * (time.perf_counter() - began)
    assert single["posts"] > teams * int(INGEST_WORKERS) * per_token

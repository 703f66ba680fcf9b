"""The demo's registry feed on PostgreSQL: each extract carries what changed, is loaded through
the import path and is deleted; nothing changed, no extract."""

from __future__ import annotations

import datetime as dt
import uuid

from tally06.contract.events import LOCAL_TZ
from tally06.domain.pii import CitizenProtector
from tally06.imports.reference import demo_org
from tally06.simulator.registry_truth import ExtractChanges, RegistryTruth, TruthConfig
from tally06.stack.registry_feed import SOURCE, RegistryFeed, team_communes
from tests.conftest import TEST_KEYS
from tests.support import factories

START = dt.datetime(2024, 11, 20, 8, 0, tzinfo=LOCAL_TZ)
TEAMS = ("TH-03-C01-T1", "TH-03-C01-T2")
CONFIG = TruthConfig(backlog_approved_per_team=0, backlog_collected_per_team=0, unclaimed_per_claim=0.0,
                     never_share=0.0, already_active_share=0.0, other_level_share=0.0, lag_hours=(1.0, 2.0))


def _claims(n: int) -> list[dict]:
    events = []
    for i in range(n):
        person = {"id_number": factories.cccd(), "full_name": "Trần Văn Nam", "phone": factories.phone()}
        events.append({"event_id": str(uuid.uuid4()), "type": "account_activated", "level": 1,
                       "occurred_at": (START + dt.timedelta(minutes=i)).isoformat(), "team": TEAMS[i % 2],
                       "officer": "CA-TH03-C01-T1-01", "citizen": person})
    return events


def test_teams_live_in_their_commune_of_the_map():
    communes = team_communes(demo_org())
    assert communes["TH-03-C01-T1"] == "TH-03-C01" and len(communes) == 501


async def test_each_extract_carries_what_changed_and_leaves_no_file(db, tmp_path):
    moment = [START + dt.timedelta(hours=1, minutes=30)]
    truth = RegistryTruth(CONFIG, start=START, teams=TEAMS)
    feed = RegistryFeed(truth, CitizenProtector(TEST_KEYS["TALLY06_HMAC_KEY"], TEST_KEYS["TALLY06_PII_KEYS"]),
                        tmp_path, lambda: moment[0], ExtractChanges())
    feed.observe(_claims(40))

    first = await feed.extract_once(db)
    # Claims at 08:00–08:39 and a lag of one to two hours: at 09:30 only the earliest are in.
    assert first is not None and first.applied and 0 < first.rows < 40
    assert first.changed == first.rows
    assert await db.fetchval("SELECT count(*) FROM registry_citizens WHERE status = 'activated' "
                             "AND commune = 'TH-03-C01'") == first.rows
    assert list(tmp_path.iterdir()) == []

    assert await feed.extract_once(db) is None  # nothing changed: no extract is written

    moment[0] = START + dt.timedelta(hours=3)
    second = await feed.extract_once(db)
    assert second is not None and second.applied and second.rows == 40 - first.rows
    extracts = await db.fetch("SELECT rows, changed, source FROM registry_extracts ORDER BY id")
    assert [(r["rows"], r["changed"], r["source"]) for r in extracts] == [
        (first.rows, first.rows, SOURCE), (second.rows, second.rows, SOURCE)]
    assert await db.fetchval("SELECT count(*) FROM registry_citizens") == 40
    assert list(tmp_path.iterdir()) == []

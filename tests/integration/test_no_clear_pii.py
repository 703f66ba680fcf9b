"""No clear CCCD or phone reaches the topics: a batch of our own, scanned at once.

The same scan over every log, table and topic runs when each test process ends
(``tests/conftest.py``, ``no_clear_personal_data_left``; ``tests/support/leak_scan.py``); these
tests make sure it never passes on nothing and that it finds what it looks for.
"""

from __future__ import annotations

import httpx

from tests.support import factories
from tests.support.kafka import wait_for_facts
from tests.support.leak_scan import Leaks, log_leaks, table_leaks, topic_leaks


async def test_no_clear_personal_data_on_topics(broker, start_service, make_token):
    ingest = start_service("ingest")
    start_service("relay")
    token = await make_token("TH-03-C01-T1")
    events = [factories.event() for _ in range(20)]
    async with httpx.AsyncClient(base_url=ingest.url, headers={"Authorization": f"Bearer {token}"}) as client:
        assert (await client.post("/v1/events", json={"events": events})).status_code == 200
    assert len(await wait_for_facts(broker.bootstrap, {e["event_id"] for e in events})) == 20
    scanned, found = await topic_leaks(broker.bootstrap, Leaks())
    assert scanned > 0 and found == []


async def test_the_scan_finds_a_value_in_clear(postgres_server, database, db, tmp_path):
    leaked = factories.cccd()
    (tmp_path / "service.log").write_text(f'{{"event": "oops", "id_number": "{leaked}"}}\n')
    assert log_leaks(tmp_path, Leaks()) == ["service.log"]
    await db.execute("CREATE TABLE leak_probe (line text)")
    await db.execute("INSERT INTO leak_probe VALUES ($1)", f"x {leaked} y")
    scanned, found = await table_leaks(postgres_server, Leaks(), [database.rsplit("/", 1)[1]])
    assert scanned > 0 and any(place.endswith(".leak_probe") for place in found)
    await db.execute("DROP TABLE leak_probe")

import datetime as dt
import uuid

import orjson

from tally06.contract.events import F, FactBatch, fact_dicts
from tally06_ingest.facts import batches_by_key, encode_batch, header_seq, seq_headers


def row(seq, district):
    return {
        "seq": seq, "event_id": uuid.uuid4(), "type": "account_activated", "level": 2,
        "metric": "activated_l2", "occurred_at": dt.datetime(2024, 10, 25, 3, tzinfo=dt.UTC),
        "day": dt.date(2024, 10, 25), "received_at": dt.datetime(2024, 10, 25, 3, 1, tzinfo=dt.UTC),
        "team": f"{district}-C01-T1", "officer": "CA-1", "citizen_key": "f" * 64, "credited": False,
        "map_id": 1, "lineage": ["TH", district, f"{district}-C01", f"{district}-C01-T1"], "fact_key": district,
    }


def test_hand_built_facts_match_the_contract():
    rows = [row(1, "TH-01"), row(2, "TH-02"), row(3, "TH-01")]
    grouped = batches_by_key(rows, 500)
    raw = encode_batch("TH-01", grouped["TH-01"][0])
    batch = FactBatch.from_bytes(raw)
    assert [f.seq for f in batch.facts] == [1, 3]
    assert batch.facts[0].credited is False
    assert FactBatch.from_bytes(batch.to_bytes()) == batch
    assert fact_dicts(raw)[1]["seq"] == 3


def test_chunks_keep_sequence_order_per_key():
    rows = [row(n, "TH-01") for n in range(1, 8)]
    chunks = batches_by_key(rows, 3)["TH-01"]
    assert [[f[F.SEQ] for f in c] for c in chunks] == [[1, 2, 3], [4, 5, 6], [7]]
    assert header_seq(seq_headers(chunks[1])) == 6
    assert header_seq(seq_headers(chunks[1]), "first_seq") == 4
    assert orjson.loads(encode_batch("TH-01", chunks[2]))["key"] == "TH-01"


def test_version_1_batches_are_lifted_into_version_2():
    v1 = ("seq", "event_id", "type", "level", "metric", "occurred_at", "day", "received_at",
          "province", "district", "commune", "team", "officer", "citizen_key", "credited")
    old = [7, str(uuid.uuid4()), "account_activated", 1, "activated_l1", "2024-10-25T03:00:00+00:00", "2024-10-25",
           "2024-10-25T03:01:00+00:00", "TH", "TH-03", "TH-03-C01", "TH-03-C01-T1", "CA-1", "ab" * 32, True]
    raw = orjson.dumps({"schema_version": 1, "key": "TH-03", "fields": v1, "rows": [old]})
    fact = FactBatch.from_bytes(raw).facts[0]
    assert fact.lineage == ("TH", "TH-03", "TH-03-C01", "TH-03-C01-T1")
    assert (fact.team, fact.officer, fact.credited, fact.map) == ("TH-03-C01-T1", "CA-1", True, 0)

"""Cluster ids for Kafka's storage tool."""

from __future__ import annotations

import base64

from tally06.stack.embedded.kafka import new_cluster_id


def test_cluster_ids_are_16_bytes_and_never_read_as_an_option():
    ids = [new_cluster_id() for _ in range(3000)]  # one random id in 64 starts with "-"
    assert not any(found.startswith("-") for found in ids)
    assert all(len(base64.urlsafe_b64decode(found + "==")) == 16 for found in ids)
    assert len(set(ids)) == len(ids)

"""Key ring, re-encryption of one batch, key usage and the retention cutoff: pure, no database."""

from __future__ import annotations

import datetime as dt

import pytest
from cryptography.exceptions import InvalidTag

from tally06.domain.exceptions import KeyConfigError
from tally06.domain.pii import CitizenProtector, KeyRing, new_key, new_key_entry, valid_key_id
from tally06.store.pii_retention import retention_cutoff
from tally06.store.pii_rotation import ACTIVE, OLD, UNKNOWN, KeyUsage, PiiRow, key_usage, reseal_rows
from tests.support import factories

KEY_A, KEY_B, KEY_Z = new_key(), new_key(), new_key()


def test_ring_order_active_key_and_membership():
    ring = KeyRing(f"b:{KEY_B}, a:{KEY_A}")
    assert ring.ids == ("b", "a") and ring.active_id == "b"
    assert "a" in ring and "z" not in ring
    assert CitizenProtector(new_key(), f"b:{KEY_B},a:{KEY_A}").keys.ids == ("b", "a")


def test_a_key_id_given_twice_is_refused_without_showing_keys():
    with pytest.raises(KeyConfigError, match="'a' is given twice") as caught:
        KeyRing(f"a:{KEY_B},a:{KEY_A}")
    assert KEY_A not in str(caught.value) and KEY_B not in str(caught.value)


def test_new_key_entry_is_a_ring_entry():
    entry = new_key_entry("k20250131")
    key_id, material = entry.split(":")
    assert key_id == "k20250131" and KeyRing(f"{entry},a:{KEY_A}").active_id == "k20250131"
    assert len(material) == 43  # 32 bytes, URL-safe base64 without padding
    for bad in ("", "k:1", "k,1", "k 1", "x" * 41):
        assert not valid_key_id(bad)
        with pytest.raises(KeyConfigError):
            new_key_entry(bad)


def sealed_row(ring: KeyRing, seq: int, citizen_key: str, values: dict) -> PiiRow:
    sealed = ring.seal(values, associated=citizen_key)
    return PiiRow(seq, citizen_key, sealed.key_id, sealed.blob)


def test_reseal_keeps_values_and_binding_to_the_citizen():
    old, rotated, new_only = KeyRing(f"a:{KEY_A}"), KeyRing(f"b:{KEY_B},a:{KEY_A}"), KeyRing(f"b:{KEY_B}")
    values = [factories.citizen() for _ in range(3)]
    rows = [sealed_row(old, seq, f"citizen-{seq}", v) for seq, v in enumerate(values, start=1)]

    outcome = reseal_rows(rotated, rows)

    assert outcome.unreadable == [] and [r.seq for r in outcome.resealed] == [1, 2, 3]
    for row, resealed, clear in zip(rows, outcome.resealed, values, strict=True):
        assert resealed.sealed.key_id == "b" and resealed.sealed.blob != row.sealed
        assert new_only.open(resealed.sealed, associated=row.citizen_key) == clear
        assert clear["id_number"].encode() not in resealed.sealed.blob
        with pytest.raises(InvalidTag):  # still bound to its citizen, as ingest sealed it
            new_only.open(resealed.sealed, associated="someone-else")


def test_rows_that_do_not_open_are_set_aside():
    rotated = KeyRing(f"b:{KEY_B},a:{KEY_A}")
    good = sealed_row(KeyRing(f"a:{KEY_A}"), 1, "c1", factories.citizen())
    unknown = sealed_row(KeyRing(f"z:{KEY_Z}"), 2, "c2", factories.citizen())
    # Another key under a known id: what a rotation that reuses an id would leave behind.
    reused = sealed_row(KeyRing(f"a:{KEY_Z}"), 3, "c3", factories.citizen())
    moved = PiiRow(4, "c4", "a", KeyRing(f"a:{KEY_A}").seal(factories.citizen(), associated="c1").blob)

    outcome = reseal_rows(rotated, [good, unknown, reused, moved])

    assert [r.seq for r in outcome.resealed] == [1]
    assert outcome.unreadable == [unknown, reused, moved]


def test_key_usage_lists_the_ring_in_order_then_unknown_ids():
    assert key_usage(("b", "a", "old"), {"a": 5, "z": 2, "b": 7, "y": 1}) == [
        KeyUsage("b", 7, ACTIVE), KeyUsage("a", 5, OLD), KeyUsage("old", 0, OLD),
        KeyUsage("y", 1, UNKNOWN), KeyUsage("z", 2, UNKNOWN),
    ]
    assert key_usage(("b",), {}) == [KeyUsage("b", 0, ACTIVE)]


def test_retention_cutoff():
    now = dt.datetime(2025, 3, 1, 2, 30, tzinfo=dt.UTC)
    assert retention_cutoff(now, 365) == dt.datetime(2024, 3, 1, 2, 30, tzinfo=dt.UTC)
    assert retention_cutoff(now, 1) == now - dt.timedelta(days=1)
    for days in (0, -3):
        with pytest.raises(ValueError, match="at least 1 day"):
            retention_cutoff(now, days)
    with pytest.raises(ValueError, match="aware"):
        retention_cutoff(now.replace(tzinfo=None), 30)

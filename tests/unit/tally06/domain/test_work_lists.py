"""Work lists' pure rules: lists and reasons, areas of units, refs, who sees what."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac

import pytest

from tally06.domain.accounts import Role
from tally06.domain.exceptions import WorkAreaError
from tally06.domain.org import OrgRegistry, Unit, UnitKind
from tally06.domain.pii import new_key
from tally06.domain.registry import RegistryStatus
from tally06.domain.work_lists import (
    CLEAR_ROLES,
    REASON_WORDS,
    Area,
    Reason,
    WorkArea,
    WorkList,
    area_of,
    days_waiting,
    masked,
    may_record,
    may_see_clear,
    ref_key,
    work_area,
    worklist_ref,
)

ORG = OrgRegistry([
    Unit("TH", "Thanh Hóa", UnitKind.PROVINCE, None),
    Unit("TH-03", "Sầm Sơn", UnitKind.DISTRICT, "TH"),
    Unit("TH-03-C01", "Bắc Sơn", UnitKind.COMMUNE, "TH-03"),
    Unit("TH-03-C01-V1", "Thôn 1", UnitKind.VILLAGE, "TH-03-C01"),
    Unit("TH-03-C01-V1-T1", "Tổ 1", UnitKind.TEAM, "TH-03-C01-V1"),
    Unit("TH-03-C01-T2", "Tổ 2", UnitKind.TEAM, "TH-03-C01"),
    Unit("TH-03-C02", "Trung Sơn", UnitKind.COMMUNE, "TH-03"),
    Unit("TH-03-C02-V1", "Thôn 1", UnitKind.VILLAGE, "TH-03-C02"),
    Unit("TH-03-C02-T1", "Tổ 1", UnitKind.TEAM, "TH-03-C02"),
    Unit("TH-01", "Thanh Hóa city", UnitKind.DISTRICT, "TH"),
    Unit("TH-01-C01", "Điện Biên", UnitKind.COMMUNE, "TH-01"),
])


def test_each_list_is_a_registry_status_and_every_reason_has_words_in_both_languages():
    assert WorkList("approved_not_activated").status is RegistryStatus.APPROVED
    assert WorkList("collected_not_approved").status is RegistryStatus.COLLECTED
    assert set(REASON_WORDS) == set(Reason)
    assert all(w.vi and w.en and w.vi != w.en for w in REASON_WORDS.values())
    # The causes Sóc Trăng reported are there, with their own codes.
    for code in ("no_smartphone", "phone_not_own", "away_from_home", "data_error"):
        assert Reason(code) in REASON_WORDS
    assert REASON_WORDS[Reason.NO_SMARTPHONE].vi == "Không có điện thoại thông minh"


def test_the_reason_codes_match_the_migration_check():
    from importlib import resources
    sql = resources.files("tally06.store.migrations").joinpath("0016_work_lists.sql").read_text("utf-8")
    listed = sql.split("reason IN (")[1].split(")")[0]
    assert {part.strip().strip("'") for part in listed.replace("\n", " ").split(",")} == {r.value for r in Reason}


def test_days_waiting_counts_whole_days_and_never_goes_negative():
    today = dt.date(2024, 11, 20)
    assert days_waiting(dt.date(2024, 11, 1), today) == 19
    assert days_waiting(today, today) == 0
    assert days_waiting(dt.date(2024, 11, 22), today) == 0
    assert days_waiting(None, today) is None


def test_clear_names_and_phones_are_for_those_who_call_and_organise_the_calls():
    assert {r for r in Role if may_see_clear(r)} == {Role.TEAM_LEAD, Role.COMMUNE_FOCAL} == CLEAR_ROLES
    assert {r for r in Role if may_record(r)} == {Role.TEAM_LEAD, Role.COMMUNE_FOCAL}
    assert masked("0912345678") == "091****678"
    assert masked(None) is None


def test_a_ref_is_a_keyed_hash_of_the_citizen_key_stable_and_not_the_key_itself():
    hmac_key = new_key()
    key = ref_key(hmac_key)
    citizen = "ab" * 32
    ref = worklist_ref(key, citizen)
    assert ref == worklist_ref(ref_key(hmac_key), citizen)
    assert ref not in citizen and len(ref) == 32
    assert ref == hmac.new(key, citizen.encode(), hashlib.sha256).hexdigest()[:32]
    assert worklist_ref(ref_key(new_key()), citizen) != ref
    assert worklist_ref(key, "cd" * 32) != ref


def test_the_area_of_a_unit():
    assert area_of(ORG, "TH") == Area("TH", ("TH-01-C01", "TH-03-C01", "TH-03-C02"))
    assert area_of(ORG, "TH-03") == Area("TH-03", ("TH-03-C01", "TH-03-C02"))
    assert area_of(ORG, "TH-03-C01") == Area("TH-03-C01", ("TH-03-C01",))
    assert area_of(ORG, "TH-03-C02-V1") == Area("TH-03-C02-V1", ("TH-03-C02",), village="TH-03-C02-V1")
    # A team's area is its commune's, narrowed to the team; a team under a village too.
    assert area_of(ORG, "TH-03-C01-T2") == Area("TH-03-C01-T2", ("TH-03-C01",), team="TH-03-C01-T2")
    assert area_of(ORG, "TH-03-C01-V1-T1") == Area("TH-03-C01-V1-T1", ("TH-03-C01",), team="TH-03-C01-V1-T1")
    assert area_of(ORG, "XX") == Area("XX", ())


def test_a_team_is_given_villages_of_its_own_commune_only():
    assert work_area(ORG, "TH-03-C01-V1", "TH-03-C01-T2") == WorkArea("TH-03-C01", "TH-03-C01-V1", "TH-03-C01-T2")
    assert work_area(ORG, "", "TH-03-C01-T2") == WorkArea("TH-03-C01", "", "TH-03-C01-T2")
    assert work_area(ORG, "TH-03-C01", "TH-03-C01-T2") == WorkArea("TH-03-C01", "", "TH-03-C01-T2")
    # A village the map does not list, as the registry writes it.
    assert work_area(ORG, "Thôn Đông", "TH-03-C02-T1") == WorkArea("TH-03-C02", "Thôn Đông", "TH-03-C02-T1")
    refused = {
        ("TH-03-C02-V1", "TH-03-C01-T2"): ("village", "not in TH-03-C01"),
        ("TH-03-C02", "TH-03-C01-T2"): ("village", "is a commune"),
        ("TH-03", "TH-03-C01-T2"): ("village", "is a district"),
        ("TH-03-C01-V1", "TH-03-C01"): ("team", "not a team"),
        ("TH-03-C01-V1", "TH-09-C01-T1"): ("team", "not a team"),
        ("TH-03-C01-V1", ""): ("team", "required"),
    }
    for (place, team), (field, words) in refused.items():
        with pytest.raises(WorkAreaError) as caught:
            work_area(ORG, place, team)
        assert (caught.value.field, words in caught.value.message) == (field, True), (place, team, caught.value)

"""The board's words for claim states, registry stages, funnel stages, ranking bases and work
lists are those of their Python homes: ``tally06.domain.metrics.METRIC_LABEL_VI`` (a capital
first, since on the board they start a line) and ``BASES``, the registry's ``ClaimState`` and
``RegistryStatus``, and the work lists' ``LIST_WORDS``."""

from __future__ import annotations

import re
from pathlib import Path

import tally06_wallboard
from tally06.domain.metrics import BASES, FAMILIES, METRIC_LABEL_VI
from tally06.domain.registry import ClaimState, RegistryStatus
from tally06.domain.work_lists import LIST_WORDS
from tests.unit.wallboard.test_rule_texts import _strings

STATIC = Path(tally06_wallboard.__file__).parent / "static"
FUNNEL_STAGES = ("installed", "collected", "approved", "activated")  # GET /v1/units/{code}/funnel


def capital(text: str) -> str:
    return text[:1].upper() + text[1:]


def test_every_metric_word_is_the_domain_label_with_a_capital():
    vi = _strings("vi")
    metric_keys = {key for key in vi if key.startswith("metric_")}
    assert metric_keys, "no metric_ words in i18n.js"
    for key in metric_keys:
        assert vi[key] == capital(METRIC_LABEL_VI[key.removeprefix("metric_")]), key


def test_every_claim_state_funnel_stage_and_registry_status_has_its_words_in_both_languages():
    vi, en = _strings("vi"), _strings("en")
    needed = {f"metric_{s.value}" for s in ClaimState} | {"metric_unclaimed"}
    needed |= {f"metric_{stage}" for stage in FUNNEL_STAGES}
    # A registry status is named like the stage it reached; rejected has no counter of its own.
    needed |= {f"metric_{s.value}" if s.value in FAMILIES else f"status_{s.value}" for s in RegistryStatus}
    for key in needed:
        assert key in vi and key in en, key
        assert vi[key] != en[key], key  # both languages written, not one copied
    # The board's confirmation table shows every state the registry gives a claim.
    views = (STATIC / "registry_views.js").read_text(encoding="utf-8")
    rows = re.search(r"CONFIRMATION_ROWS = \[(.*?)\]", views)
    assert rows is not None
    assert re.findall(r'"(\w+)"', rows.group(1)) == ["claimed", *(s.value for s in ClaimState), "unclaimed"]


def test_the_basis_words_name_the_family_each_basis_counts():
    vi, en = _strings("vi"), _strings("en")
    assert {key.removeprefix("basis_") for key in vi if key.startswith("basis_")} == set(BASES)
    assert {key.removeprefix("basis_") for key in en if key.startswith("basis_")} == set(BASES)
    for basis, family in BASES.items():
        assert METRIC_LABEL_VI[family] in vi[f"basis_{basis}"].lower(), basis
    # The claimed row of the confirmation table names the claimed family too.
    assert METRIC_LABEL_VI[BASES["claimed"]] in vi["claimedRow"].lower()
    board = (STATIC / "screens.js").read_text(encoding="utf-8")
    assert 'export const BASES = ["claimed", "confirmed"]' in board and "basis: state.basis" in board


def test_the_list_words_are_the_work_lists_own():
    words = LIST_WORDS
    vi, en = _strings("vi"), _strings("en")
    for work_list, (word_vi, word_en) in words.items():
        assert vi[f"list_{work_list.value}"] == word_vi
        assert en[f"list_{work_list.value}"] == word_en

"""The board and the verification page name spot-check outcomes and statuses with the words of
``tally06.domain.spot_checks`` (their one home), and know the same verifier roles."""

from __future__ import annotations

import re
from pathlib import Path

import tally06_wallboard
from tally06.domain.spot_checks import OUTCOME_TEXTS, STATUS_TEXTS, VERIFIER_ROLES, CheckStatus, Outcome
from tests.unit.wallboard.test_rule_texts import _strings

STATIC = Path(tally06_wallboard.__file__).parent / "static"


def test_every_outcome_has_the_domain_words_in_both_languages():
    vi, en = _strings("vi"), _strings("en")
    for outcome in Outcome:
        word_vi, word_en = OUTCOME_TEXTS[outcome]
        assert vi[f"outcome_{outcome.value}"] == word_vi, outcome
        assert en[f"outcome_{outcome.value}"] == word_en, outcome


def test_every_status_has_the_domain_words_in_both_languages():
    vi, en = _strings("vi"), _strings("en")
    for status in CheckStatus:
        word_vi, word_en = STATUS_TEXTS[status]
        assert vi[f"spotStatus_{status.value}"] == word_vi, status
        assert en[f"spotStatus_{status.value}"] == word_en, status


def test_the_board_names_no_outcome_or_status_the_domain_does_not_know():
    for language in ("vi", "en"):
        keys = _strings(language)
        assert {k for k in keys if k.startswith("outcome_")} == {f"outcome_{o.value}" for o in Outcome}
        assert {k for k in keys if k.startswith("spotStatus_")} == {f"spotStatus_{s.value}" for s in CheckStatus}


def test_every_spot_check_word_is_written_in_both_languages():
    vi, en = _strings("vi"), _strings("en")
    spot_vi = {k for k in vi if k.startswith(("spot", "outcome_"))}
    assert spot_vi == {k for k in en if k.startswith(("spot", "outcome_"))}
    # Every word the spot-check code asks for exists (a missing key would show as the key itself).
    used: set[str] = set()
    for module in ("spot_panels.js", "spotcheck.js"):
        source = (STATIC / module).read_text(encoding="utf-8")
        used |= {key for key in re.findall(r"""\bt\(\s*["'`](spot\w+)""", source) if not key.endswith("_")}
    assert used, "no spot words used"
    assert used <= spot_vi, used - spot_vi


def test_the_pages_know_the_domain_verifier_roles():
    for module in ("spot_panels.js", "spotcheck.js"):
        source = (STATIC / module).read_text(encoding="utf-8")
        roles = re.search(r"VERIFIER_ROLES = new Set\(\[(.*?)\]\)", source)
        assert roles is not None, module
        assert set(re.findall(r'"(\w+)"', roles.group(1))) == {r.value for r in VERIFIER_ROLES}, module

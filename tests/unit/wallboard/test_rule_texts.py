"""The board names alert rules with the words of ``tally06.domain.alert_rules`` (their one home)."""

import re
from pathlib import Path

import tally06_wallboard
from tally06.domain.alert_rules import RULE_TEXTS, Rule

I18N = Path(tally06_wallboard.__file__).parent / "static" / "i18n.js"


def _strings(language: str) -> dict[str, str]:
    """``key: "text"`` pairs of one language block of i18n.js (``vi: { ... }``)."""
    source = I18N.read_text(encoding="utf-8")
    block = re.search(rf"^  {language}: \{{\n(.*?)^  \}}", source, re.S | re.M)
    assert block, f"no {language} block in {I18N}"
    return dict(re.findall(r'^\s+(\w+): "((?:[^"\\]|\\.)*)",?$', block.group(1), re.M))


def test_every_rule_has_the_domain_title_on_the_board_in_both_languages():
    vi, en = _strings("vi"), _strings("en")
    for rule in Rule:
        assert vi[f"rule_{rule.value}"] == RULE_TEXTS[rule].title_vi
        assert en[f"rule_{rule.value}"] == RULE_TEXTS[rule].title_en


def test_the_board_names_no_rule_the_domain_does_not_know():
    known = {f"rule_{rule.value}" for rule in Rule}
    for language in ("vi", "en"):
        assert {key for key in _strings(language) if key.startswith("rule_")} == known


def test_every_rule_has_its_words():
    assert set(RULE_TEXTS) == set(Rule)

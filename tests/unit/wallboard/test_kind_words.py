"""The board names levels with the words of ``tally06.domain.org.KIND_WORDS`` (their one home),
which the read API hands out (GET /v1/kinds): i18n.js holds none of its own."""

import re
from pathlib import Path

import tally06_wallboard
from tally06.domain.org import KIND_WORDS, OrgRegistry, Unit, UnitKind
from tally06_wallboard.hierarchy import Tree
from tally06_wallboard.routers.kinds import kinds_of

STATIC = Path(tally06_wallboard.__file__).parent / "static"

TWO_TIER = Tree.of(OrgRegistry([
    Unit("TH", "Tỉnh Thanh Hóa", UnitKind.PROVINCE, None),
    Unit("TH-X001", "Xã Một", UnitKind.COMMUNE, "TH"), Unit("TH-X001-T1", "Tổ 1", UnitKind.TEAM, "TH-X001"),
]), map_id=2)


def test_the_kinds_answer_carries_the_domain_words_of_every_kind():
    answer = kinds_of(TWO_TIER)
    assert [k.kind for k in answer.kinds] == list(UnitKind)
    for info in answer.kinds:
        assert tuple(info.words.model_dump().values()) == tuple(KIND_WORDS[info.kind])
    # The words people expect on a two-tier province's board, written out.
    commune = next(k for k in answer.kinds if k.kind is UnitKind.COMMUNE)
    assert (commune.words.vi_level, commune.words.en_level) == ("Cấp xã", "Communes")


def test_the_kinds_answer_says_which_levels_the_live_map_has_and_ranks():
    answer = kinds_of(TWO_TIER)
    assert answer.map_id == 2
    assert {k.kind for k in answer.kinds if k.in_map} == {UnitKind.PROVINCE, UnitKind.COMMUNE, UnitKind.TEAM}
    # The province is the root: nothing to rank it against.
    assert {k.kind for k in answer.kinds if k.ranked} == {UnitKind.COMMUNE, UnitKind.TEAM}


def test_the_board_writes_no_kind_or_level_name_of_its_own():
    source = (STATIC / "i18n.js").read_text(encoding="utf-8")
    keys = re.findall(r'^\s+(\w+): "', source, re.M)
    assert not [k for k in keys if k.startswith("kind")]
    code = re.sub(r"(^|\s)//.*$", "", source, flags=re.M)  # comments may name them as examples
    quoted = set(re.findall(r'"((?:[^"\\]|\\.)*)"', code))
    for words in KIND_WORDS.values():
        assert not quoted & set(words), words


def test_the_board_takes_kind_and_level_names_from_the_kinds_answer():
    # The breadcrumbs and ranking titles call the i18n helpers that read GET /v1/kinds.
    i18n = (STATIC / "i18n.js").read_text(encoding="utf-8")
    assert "export function makeI18n(lang, kinds = [])" in i18n
    assert "words[kind].vi_level" in i18n and "words[kind].en_level" in i18n
    board = (STATIC / "board.js").read_text(encoding="utf-8")
    assert 'getJSON("/v1/kinds")' in board and "makeI18n(state.i18n.lang, state.kinds)" in board
    assert "i18n.kind(u.kind)" in (STATIC / "views.js").read_text(encoding="utf-8")

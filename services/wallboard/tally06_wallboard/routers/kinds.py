"""The kinds of unit with their words, and which of them the live map uses and ranks.

The words live in ``tally06.domain.org.KIND_WORDS`` (their one home); the board names levels
("Cấp xã", "Communes") with what this answer gives, so no level name is written twice.
"""

from __future__ import annotations

from fastapi import APIRouter

from tally06.domain.org import KIND_WORDS, UnitKind
from tally06_wallboard.deps import ReportsDep, User
from tally06_wallboard.hierarchy import Tree
from tally06_wallboard.schemas import ErrorBody, KindInfo, Kinds, KindWords

router = APIRouter(prefix="/v1/kinds", tags=["units"], responses={401: {"model": ErrorBody}})


def kinds_of(tree: Tree) -> Kinds:
    used, ranked = set(tree.kinds()), set(tree.ranked_kinds())
    return Kinds(map_id=tree.map_id, effective_from=tree.effective_from, kinds=[
        KindInfo(kind=kind, rank=kind.rank, words=KindWords(**KIND_WORDS[kind]._asdict()),
                 in_map=kind in used, ranked=kind in ranked)
        for kind in sorted(UnitKind, key=lambda k: k.rank)
    ])


@router.get("", summary="Kinds of unit, their names in Vietnamese and English, and the levels of the live map")
async def kinds(reports: ReportsDep, _: User) -> Kinds:
    return kinds_of(reports.tree())

"""The org registry as CSV: ``code,name,kind,parent_code``, read and written."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping

from tally06.domain.exceptions import OrgError
from tally06.domain.org import OrgRegistry, Unit, UnitKind

CSV_COLUMNS = ("code", "name", "kind", "parent_code")


def _row_to_unit(number: int, row: Mapping[str, str | None]) -> Unit:
    code = (row.get("code") or "").strip()
    name = (row.get("name") or "").strip()
    kind_text = (row.get("kind") or "").strip()
    parent = (row.get("parent_code") or "").strip() or None
    if not code or not name:
        raise OrgError(f"row {number}: code and name are required")
    try:
        kind = UnitKind(kind_text)
    except ValueError:
        kinds = ", ".join(k.value for k in UnitKind)
        raise OrgError(f"row {number}: kind {kind_text!r} is not one of {kinds}") from None
    return Unit(code=code, name=name, kind=kind, parent_code=parent)


def parse_org_csv(text: str) -> OrgRegistry:
    """Parse ``code,name,kind,parent_code`` rows (parents may come after children)."""
    reader = csv.DictReader(io.StringIO(text))
    if tuple(reader.fieldnames or ()) != CSV_COLUMNS:
        raise OrgError(f"header must be {','.join(CSV_COLUMNS)}, got {reader.fieldnames}")
    return OrgRegistry(_row_to_unit(n, row) for n, row in enumerate(reader, start=2))


def to_org_csv(units: Iterable[Unit]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for u in units:
        writer.writerow([u.code, u.name, u.kind.value, u.parent_code or ""])
    return out.getvalue()

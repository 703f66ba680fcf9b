"""Work areas from CSV: ``village,team``. The village is a village code of the map, a village
as the registry writes it, or empty (or the team's commune code) for the team's whole commune;
the commune is always the team's own."""

from __future__ import annotations

from tally06.domain.exceptions import WorkAreaError
from tally06.domain.org import OrgRegistry
from tally06.domain.work_lists import WorkArea, work_area
from tally06.imports.row_errors import FirstRows, RowError, csv_rows

CSV_COLUMNS = ("village", "team")


def parse_work_areas_csv(text: str, org: OrgRegistry) -> tuple[list[WorkArea], list[RowError]]:
    """Rows of ``village,team``; bad rows are reported, never raised. An area given twice in the
    file is an error even with the same team: one of the two rows was probably meant otherwise."""
    lines, errors = csv_rows(text, CSV_COLUMNS)
    rows: list[WorkArea] = []
    first = FirstRows()
    for line, (village, team) in lines:
        if not (village or team):
            continue
        try:
            area = work_area(org, village, team)
        except WorkAreaError as exc:
            errors.append(RowError(line, exc.field, exc.message))
            continue
        what = f"{area.village or 'the whole commune'} of {area.commune}"
        if repeated := first.repeated((area.commune, area.village), line, "village", what):
            errors.append(repeated)
            continue
        rows.append(area)
    return rows, errors

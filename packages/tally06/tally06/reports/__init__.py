"""Official reports (issue 6): Appendix I of plan 70 as of any cutoff, from the event store."""

from tally06.reports.appendix1 import (
    Appendix1Report,
    Appendix1Row,
    Correction,
    assemble_appendix1,
    build_appendix1,
)
from tally06.reports.appendix1_writers import write_appendix1, write_appendix1_csv, write_appendix1_xlsx
from tally06.reports.exceptions import ReportError

__all__ = [
    "Appendix1Report", "Appendix1Row", "Correction", "ReportError", "assemble_appendix1",
    "build_appendix1", "write_appendix1", "write_appendix1_csv", "write_appendix1_xlsx",
]

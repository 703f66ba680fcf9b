"""Spot checks on PostgreSQL, one import for callers: the draws and reads
(``store.spot_check_draws``) and the outcomes with their verdict (``store.spot_check_outcomes``)."""

from __future__ import annotations

from tally06.store.exceptions import SpotCheckConflict, SpotCheckError
from tally06.store.spot_check_draws import (
    CheckRow,
    Replay,
    checked_design,
    draw_check,
    frozen_population,
    get_check,
    last_decided,
    list_checks,
    population_seqs,
    replay,
    set_thresholds,
    thresholds_for,
    thresholds_source,
)
from tally06.store.spot_check_outcomes import (
    Contact,
    ItemRow,
    OutcomeRow,
    RecordResult,
    check_verdict,
    contacts,
    items,
    outcome_rows,
    record_outcome,
)

__all__ = [
    "CheckRow", "Contact", "ItemRow", "OutcomeRow", "RecordResult", "Replay", "SpotCheckConflict", "SpotCheckError",
    "check_verdict", "checked_design", "contacts", "draw_check", "frozen_population", "get_check", "items",
    "last_decided", "list_checks", "outcome_rows", "population_seqs", "record_outcome", "replay", "set_thresholds",
    "thresholds_for", "thresholds_source",
]

"""Scope checks shared by the routers: a user reads their own unit and what lies below it."""

from __future__ import annotations

from tally06_wallboard.answers import Reports
from tally06_wallboard.sessions import Principal


def readable(reports: Reports, principal: Principal, code: str, field: str = "code") -> None:
    """404 for a unit nobody knows, 403 for one outside the user's units."""
    reports.unit(code)
    principal.require_read(reports.tree(), code, field)


def default_unit(principal: Principal, asked: str | None) -> str | None:
    """What a request without a unit means: everything for those who read everything, else the
    user's own unit."""
    if asked is not None or principal.reads_everything:
        return asked
    return principal.unit

"""Scope checks shared by the routers: a user reads their own unit and what lies below it in
the live map, whatever their role (a country operator reads every province, a province's
operator only that province)."""

from __future__ import annotations

from tally06_wallboard.answers import Reports
from tally06_wallboard.sessions import Principal


def readable(reports: Reports, principal: Principal, code: str, field: str = "code") -> None:
    """404 for a unit nobody knows, 403 for one outside the user's units."""
    reports.unit(code, field=field)
    principal.require_read(reports.tree(), code, field)


def default_unit(principal: Principal, asked: str | None) -> str:
    """What a request without a unit means: the user's own unit."""
    return principal.unit if asked is None else asked

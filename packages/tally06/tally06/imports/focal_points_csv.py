"""Focal points from CSV: ``unit_code,name,channel,address``, for units of any level but teams
(a country, a province, a district, a commune, a village)."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from tally06.domain.focal_points import CHANNELS, FocalPointRow
from tally06.domain.org import OrgRegistry, UnitKind
from tally06.imports.row_errors import FirstRows, RowError, csv_rows

CSV_COLUMNS = ("unit_code", "name", "channel", "address")


# Enough to catch a name or a phone number typed into the address column, not RFC 5322.
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s.]+")


def _address_problem(channel: str, address: str) -> str | None:
    if not address:
        return "is required"
    if channel == "email" and not _EMAIL.fullmatch(address):
        return f"{address!r} is not an email address"
    if channel == "webhook":
        url = urlsplit(address)
        if url.scheme not in ("http", "https") or not url.hostname:
            return f"{address!r} is not an http(s) URL"
    return None


def parse_focal_points_csv(text: str, org: OrgRegistry) -> tuple[list[FocalPointRow], list[RowError]]:
    """Rows of ``unit_code,name,channel,address``; bad rows are reported, never raised."""
    lines, errors = csv_rows(text, CSV_COLUMNS)
    rows: list[FocalPointRow] = []
    first = FirstRows()
    for line, (unit_code, name, channel, address) in lines:
        if not (unit_code or name or channel or address):
            continue
        before = len(errors)
        channel = channel.lower()
        if channel == "email":
            address = address.lower()  # one mailbox typed in two cases is still one recipient
        unit = org.get(unit_code)
        if unit is None:
            errors.append(RowError(line, "unit_code", f"{unit_code!r} is not a known unit"))
        elif unit.kind is UnitKind.TEAM:
            errors.append(RowError(line, "unit_code", (
                f"{unit_code} is a team; teams have no focal points (a team's alerts go to the unit above it)")))
        if not name:
            errors.append(RowError(line, "name", "is required"))
        if channel not in CHANNELS:
            errors.append(RowError(line, "channel", f"{channel!r} is not one of {', '.join(CHANNELS)}"))
        elif (problem := _address_problem(channel, address)) is not None:
            errors.append(RowError(line, "address", problem))
        if len(errors) > before:
            continue
        key = (unit_code, channel, address)
        if repeated := first.repeated(key, line, "address", f"{unit_code} {channel} {address}"):
            errors.append(repeated)
            continue
        rows.append(FocalPointRow(unit_code, name, channel, address))
    return rows, errors

"""Focal points (đầu mối): the people alerts about a unit's children are sent to.

A commune's focal point hears about its teams, a district's about its communes and the
province's duty desk about its districts, so teams have none of their own. Each
(unit, channel, address) is one recipient.
"""

from __future__ import annotations

from dataclasses import dataclass

CHANNELS = ("email", "webhook", "console")


@dataclass(frozen=True)
class FocalPointRow:
    """A recipient as a file gives it, before it has an id."""

    unit_code: str
    name: str
    channel: str
    address: str


@dataclass(frozen=True)
class Recipient:
    id: int
    unit: str
    name: str
    channel: str
    address: str


@dataclass(frozen=True)
class LoadResult:
    added: int
    retired: int
    kept: int

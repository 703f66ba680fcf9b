"""The rows of a registry extract checked one by one (docs/registry-extracts.md), each turned into
what is stored: the CCCD becomes its keyed hash and the name and phone are sealed bound to it.

The checks are plain regular expressions and dictionaries of the few distinct values a column
holds (statuses, days, levels), not a model per row: a few microseconds a row, most of it the
keyed hash and the encryption. No error message repeats a cell that could hold a CCCD or phone.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from hashlib import blake2b
from operator import itemgetter
from typing import NamedTuple

from tally06.domain.pii import CitizenProtector
from tally06.domain.registry import RegistryStatus
from tally06.imports.registry_words import (
    COLUMNS,
    LEVELS,
    NOT_REACHED,
    STAGE_DATES,
    STATUS_DATE,
    STATUSES,
    plain,
)
from tally06.imports.row_errors import RowError

# As contract.events.Citizen checks them (a registry row and a claim are the same citizen).
_CCCD = re.compile(r"[0-9]{12}")
_PHONE = re.compile(r"(?:\+84|0)[0-9]{9}")
_PHONE_SEPARATORS = re.compile(r"[\s.-]")
_NAME_MAX = 200
# Administrative codes are the state's, not our map's (docs/registry-extracts.md): any short code.
_CODE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,39}")
_ISO_DAY = re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2})")
_VN_DAY = re.compile(r"([0-9]{1,2})/([0-9]{1,2})/([0-9]{4})")
_DIGIT_RUN = re.compile(r"[0-9]{9}")
_CACHE_LIMIT = 10_000  # distinct values remembered per column (days, statuses): a bound, not a need
KEPT_ERRORS = 10_000  # bad rows kept for the report; beyond that only counted
STATUS_WORDS = "collected, approved, activated, rejected (or đã thu nhận, đã phê duyệt, đã kích hoạt, từ chối)"


class ExtractRecord(NamedTuple):
    """One citizen of an extract, as stored: in the column order of ``registry_citizens``."""

    citizen_key: str
    status: str
    level: int
    collected_on: dt.date | None
    approved_on: dt.date | None
    activated_on: dt.date | None
    rejected_on: dt.date | None
    commune: str
    village: str | None
    pii_key_id: str | None
    pii_sealed: bytes | None
    pii_digest: str | None  # keyed digest of name and phone: tells a change without opening the seal


RECORD_COLUMNS = ExtractRecord._fields


@dataclass
class ReadTally:
    """What reading found: rows with a citizen (good and bad), and the bad ones by row."""

    good: int = 0
    bad: int = 0
    errors: list[RowError] = field(default_factory=list)

    @property
    def rows(self) -> int:
        return self.good + self.bad

    def add(self, errors: list[RowError]) -> None:
        self.bad += 1
        if len(self.errors) < KEPT_ERRORS:
            self.errors.extend(errors)


def _shown(value: str) -> str:
    """A cell in an error message, unless it could be personal data (a shifted column puts a
    CCCD or phone where a status or a day should be)."""
    return repr(value) if len(value) <= 24 and not _DIGIT_RUN.search(value) else "the value"


def _day(text: str) -> dt.date | None:
    if m := _ISO_DAY.fullmatch(text):
        year, month, day = int(m[1]), int(m[2]), int(m[3])
    elif m := _VN_DAY.fullmatch(text):
        day, month, year = int(m[1]), int(m[2]), int(m[3])
    else:
        return None
    try:
        return dt.date(year, month, day)
    except ValueError:
        return None


_Stages = tuple[str, int, "dt.date | None", "dt.date | None", "dt.date | None", "dt.date | None"]
_Problems = list[tuple[str, str]]


class RowChecker:
    """Checks rows one by one. The status, level and days of a row are checked once per distinct
    combination (a province's extract has millions of rows but few thousand such combinations),
    and the codes once per distinct code; it remembers whose rows it saw."""

    def __init__(self, columns: dict[str, int], protector: CitizenProtector, last_day: dt.date | None) -> None:
        # Absent columns read the empty cell appended to every row (index -1).
        self._cells = itemgetter(*(columns.get(c, -1) for c in COLUMNS))
        self._width = max(columns.values()) + 1
        self._protector = protector
        self._last_day = last_day
        self._stages: dict[tuple[str, ...], _Stages | _Problems] = {}
        self._codes: set[str] = set()
        self._seen: dict[str, int] = {}
        # The name-and-phone digest needs no HMAC: keyed BLAKE2 is one pass, a third of the time,
        # under a key derived from the identity key (so it is stable across runs, and secret).
        self._pii_key = bytes.fromhex(protector.content_digest(b"registry-pii-digest-key"))
        self._carries_pii = "full_name" in columns and "phone" in columns

    def check(self, line: int, cells: list[str]) -> ExtractRecord | list[RowError]:
        if len(cells) < self._width:
            cells = cells + [""] * (self._width - len(cells))
        cells.append("")
        cccd, name, phone, status, level, collected, approved, activated, rejected, commune, village = \
            self._cells(cells)
        stage_key = (status, level, collected, approved, activated, rejected)
        stages = self._stages.get(stage_key)
        if stages is None:
            stages = _stages(stage_key, self._last_day)
            if len(self._stages) < _CACHE_LIMIT:
                self._stages[stage_key] = stages
        errors = [RowError(line, f, m) for f, m in stages] if type(stages) is list else []
        cccd = cccd.strip()
        if not _CCCD.fullmatch(cccd):
            reason = "is required" if not cccd else "must be exactly 12 digits"
            if cccd.isdigit() and 9 <= len(cccd) < 12:
                reason += " (a spreadsheet may have dropped its leading zeros: format the column as text)"
            errors.append(RowError(line, "cccd", reason))
        name = name.strip() or None
        if name is not None and len(name) > _NAME_MAX:
            errors.append(RowError(line, "full_name", f"is longer than {_NAME_MAX} characters"))
        phone = phone.strip() or None
        if phone is not None and not _PHONE.fullmatch(phone):
            phone = _PHONE_SEPARATORS.sub("", phone)
            if not _PHONE.fullmatch(phone):
                errors.append(RowError(line, "phone", "must be a Vietnamese mobile number (0 or +84 and 9 digits)"))
        if phone is not None and phone.startswith("+84"):
            phone = "0" + phone[3:]
        commune = commune.strip()
        if commune not in self._codes and not self._code(commune):
            errors.append(RowError(line, "commune", "is required" if not commune else _NOT_A_CODE))
        village = village.strip() or None
        if village is not None and village not in self._codes and not self._code(village):
            errors.append(RowError(line, "village", _NOT_A_CODE))
        if errors:
            return errors
        key = self._protector.citizen_key(cccd)
        first = self._seen.setdefault(key, line)
        if first != line:
            return [RowError(line, "cccd", f"the same citizen is already on row {first}")]
        sealed_id = sealed = digest = None
        if self._carries_pii and (name is not None or phone is not None):
            seal = self._protector.seal({"full_name": name, "phone": phone}, associated=key)
            sealed_id, sealed = seal.key_id, seal.blob
            digest = blake2b(f"{key}\x00{name or ''}\x00{phone or ''}".encode(), key=self._pii_key,
                             digest_size=16).hexdigest()
        return ExtractRecord(key, *stages, commune, village, sealed_id, sealed, digest)  # type: ignore[call-arg]

    def _code(self, code: str) -> bool:
        if not _CODE.fullmatch(code):
            return False
        if len(self._codes) < _CACHE_LIMIT:
            self._codes.add(code)
        return True


_NOT_A_CODE = "is not a code: 1-40 letters, digits, '.', '_' or '-'"


def _stages(texts: tuple[str, ...], last_day: dt.date | None) -> _Stages | _Problems:
    """Status, level and the day of each stage, or what is wrong with them."""
    status_text, level_text, *day_texts = texts
    problems: _Problems = []
    status = STATUSES.get(status_text) or STATUSES.get(plain(status_text))
    if status is None:
        problems.append(("status", f"{_shown(status_text.strip())} is not one of {STATUS_WORDS}"
                         if status_text.strip() else "is required"))
    level = LEVELS.get(level_text) or LEVELS.get(plain(level_text))
    if level is None:
        problems.append(("level", "must be 1 or 2" if level_text.strip() else "is required"))
    days: dict[str, dt.date | None] = {}
    for column, text in zip(STAGE_DATES, day_texts, strict=True):
        day = _day(text.strip()) if text.strip() else None
        if text.strip() and day is None:
            problems.append((column, f"{_shown(text.strip())} is not a day: YYYY-MM-DD or dd/mm/yyyy"))
        elif day is not None and last_day is not None and day > last_day:
            problems.append((column, f"{day} is after the extract's day {last_day}"))
        days[column] = day
    if status is not None:
        problems += _order(status, days)
    if problems or status is None or level is None:
        return problems
    return (status.value, level, *days.values())  # type: ignore[return-value]


def _order(status: RegistryStatus, days: dict[str, dt.date | None]) -> _Problems:
    problems = []
    own = STATUS_DATE[status]
    if days[own] is None:
        problems.append((own, f"is required for status {status.value}"))
    problems += [(column, f"is given but the status is {status.value}")
                 for column in NOT_REACHED[status] if days[column]]
    # Stages follow one another; a rejection follows the collection, whatever else it ends.
    chain = [(c, days[c]) for c in ("collected_on", "approved_on", "activated_on") if days[c]]
    pairs = list(zip(chain, chain[1:]))
    if days["collected_on"] and days["rejected_on"]:
        pairs.append((("collected_on", days["collected_on"]), ("rejected_on", days["rejected_on"])))
    for (before, early), (after, late) in pairs:
        if late < early:  # type: ignore[operator]
            problems.append((after, f"{late} is before {before} {early}"))
    return problems

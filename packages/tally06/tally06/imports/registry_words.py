"""The words of a registry extract: its column headers and status values, in English and in the
Vietnamese the police's exports use (docs/registry-extracts.md).

Headers and values are compared in a plain form (lower case, no diacritics, single spaces), so
"Ngày kích hoạt", "ngay_kich_hoat" and "NGÀY KÍCH HOẠT" are the same column: exports are made by
hand in Excel as often as by a program, and the accents survive neither reliably.
"""

from __future__ import annotations

import re
import unicodedata

from tally06.domain.registry import RegistryStatus

COLUMNS = ("cccd", "full_name", "phone", "status", "level", "collected_on", "approved_on", "activated_on",
           "rejected_on", "commune", "village")
REQUIRED_COLUMNS = ("cccd", "status", "level", "commune")
STAGE_DATES = ("collected_on", "approved_on", "activated_on", "rejected_on")

_SEPARATORS = re.compile(r"[\s_\-./]+")


def plain(text: str) -> str:
    """'Ngày  Kích_hoạt' → 'ngay kich hoat'."""
    folded = unicodedata.normalize("NFD", text.strip().casefold().replace("đ", "d"))
    return _SEPARATORS.sub(" ", "".join(c for c in folded if not unicodedata.combining(c))).strip()


_HEADER_WORDS = {
    "cccd": ("cccd", "so cccd", "id number", "so dinh danh", "so dinh danh ca nhan", "ma dinh danh"),
    "full_name": ("full name", "name", "ho ten", "ho va ten"),
    "phone": ("phone", "so dien thoai", "dien thoai", "sdt", "so dt"),
    "status": ("status", "trang thai"),
    "level": ("level", "muc", "muc do", "muc tai khoan", "muc dinh danh"),
    "collected_on": ("collected on", "ngay thu nhan", "ngay tiep nhan"),
    "approved_on": ("approved on", "ngay phe duyet", "ngay duyet"),
    "activated_on": ("activated on", "ngay kich hoat"),
    "rejected_on": ("rejected on", "ngay tu choi"),
    "commune": ("commune", "ma xa", "xa", "xa phuong", "ma xa phuong"),
    "village": ("village", "ma thon", "thon", "to dan pho", "thon to dan pho", "ma thon to dan pho"),
}
HEADERS = {word: column for column, words in _HEADER_WORDS.items() for word in words}

_STATUS_WORDS = {
    RegistryStatus.COLLECTED: ("collected", "thu nhan", "da thu nhan", "tiep nhan", "da tiep nhan"),
    RegistryStatus.APPROVED: ("approved", "phe duyet", "da phe duyet", "duyet", "da duyet"),
    RegistryStatus.ACTIVATED: ("activated", "kich hoat", "da kich hoat"),
    RegistryStatus.REJECTED: ("rejected", "tu choi", "da tu choi", "bi tu choi", "khong duyet", "khong phe duyet"),
}
STATUSES = {word: status for status, words in _STATUS_WORDS.items() for word in words}
LEVELS = {"1": 1, "2": 2, "muc 1": 1, "muc 2": 2, "level 1": 1, "level 2": 2}

# The date a status must carry, and the stages it must not have reached: a record that says
# "approved" and gives a day of activation is two answers at once.
STATUS_DATE = {RegistryStatus.COLLECTED: "collected_on", RegistryStatus.APPROVED: "approved_on",
               RegistryStatus.ACTIVATED: "activated_on", RegistryStatus.REJECTED: "rejected_on"}
NOT_REACHED = {RegistryStatus.COLLECTED: ("approved_on", "activated_on", "rejected_on"),
               RegistryStatus.APPROVED: ("activated_on", "rejected_on"),
               RegistryStatus.ACTIVATED: ("rejected_on",),
               RegistryStatus.REJECTED: ("approved_on", "activated_on")}


def header_columns(header: list[str]) -> tuple[dict[str, int], list[str], list[str]]:
    """Where each known column is, the headers not understood (ignored), and the problems."""
    found: dict[str, int] = {}
    ignored, problems = [], []
    for index, text in enumerate(header):
        column = HEADERS.get(plain(text or ""))
        if column is None:
            if (text or "").strip():
                ignored.append(text.strip())
        elif column in found:
            problems.append(f"column {column} is given twice (columns {found[column] + 1} and {index + 1})")
        else:
            found[column] = index
    missing = [c for c in REQUIRED_COLUMNS if c not in found]
    if missing:
        problems.append(f"required column(s) missing: {', '.join(missing)}; the header must name "
                        f"{', '.join(COLUMNS)} (or their Vietnamese names)")
    return found, ignored, problems

"""Made-up citizens and officers that look like the real ones.

Appendix II of plan 70 lists, per activation, the citizen's full name, CCCD and phone and the
officer who guided it; the simulator fills the same fields so the ingest path, the PII sealing
and the reports meet realistic values. Nothing here is a real person.
"""

from __future__ import annotations

import random
from typing import Any

# Thanh Hóa's province code as printed in the first three CCCD digits (Circular 59/2021).
PROVINCE_CCCD_CODE = "038"

FAMILY_NAMES = (
    ("Nguyễn", 30), ("Lê", 14), ("Trần", 10), ("Phạm", 8), ("Hoàng", 5), ("Vũ", 4), ("Đỗ", 3),
    ("Bùi", 3), ("Trịnh", 3), ("Đặng", 2), ("Ngô", 2), ("Mai", 2), ("Lương", 1), ("Hà", 1),
    ("Cao", 1), ("Đinh", 1), ("Phan", 1), ("Dương", 1), ("Lò", 1),
)
MIDDLE_MALE = ("Văn", "Văn", "Văn", "Đức", "Hữu", "Minh", "Quốc", "Xuân", "Đình", "Ngọc", "Thanh")
MIDDLE_FEMALE = ("Thị", "Thị", "Thị", "Thị", "Ngọc", "Thu", "Thanh", "Minh", "Hồng", "Phương")
GIVEN_MALE = (
    "Anh", "Bình", "Cường", "Dũng", "Duy", "Đạt", "Hải", "Hiếu", "Hùng", "Huy", "Khánh",
    "Long", "Mạnh", "Nam", "Phong", "Quân", "Sơn", "Thắng", "Thành", "Trung", "Tuấn", "Việt",
)
GIVEN_FEMALE = (
    "Anh", "Chi", "Dung", "Giang", "Hà", "Hằng", "Hoa", "Huyền", "Hương", "Lan", "Linh",
    "Loan", "Mai", "Nga", "Ngọc", "Nhung", "Oanh", "Phương", "Thảo", "Trang", "Vân", "Yến",
)
# Mobile prefixes in use by Viettel, Vinaphone, MobiFone and Vietnamobile since 2018.
PHONE_PREFIXES = (
    "032", "033", "034", "035", "036", "037", "038", "039", "086", "096", "097", "098",
    "081", "082", "083", "084", "085", "088", "091", "094",
    "070", "076", "077", "078", "079", "089", "090", "093", "056", "058",
)

_FAMILY, _FAMILY_WEIGHTS = zip(*FAMILY_NAMES, strict=True)


def cccd(rng: random.Random, *, birth_year: int, female: bool) -> str:
    """Province code, century/sex digit, two-digit birth year, six serial digits."""
    century = 0 if birth_year < 2000 else 2
    return f"{PROVINCE_CCCD_CODE}{century + int(female)}{birth_year % 100:02d}{rng.randrange(10**6):06d}"


def full_name(rng: random.Random, *, female: bool) -> str:
    family = rng.choices(_FAMILY, weights=_FAMILY_WEIGHTS)[0]
    middle = rng.choice(MIDDLE_FEMALE if female else MIDDLE_MALE)
    given = rng.choice(GIVEN_FEMALE if female else GIVEN_MALE)
    if rng.random() < 0.2:  # four-part names are common: "Nguyễn Thị Thu Hà"
        given = f"{rng.choice(GIVEN_FEMALE if female else GIVEN_MALE)} {given}"
    return f"{family} {middle} {given}"


def phone(rng: random.Random) -> str:
    return f"{rng.choice(PHONE_PREFIXES)}{rng.randrange(10**7):07d}"


def citizen(rng: random.Random, *, year: int) -> dict[str, Any]:
    """A citizen aged 14 or more in ``year``, as the ``citizen`` object of a DeviceEvent.

    Name and phone are optional in the contract and field apps do leave them out (no phone
    registered to its user is a named cause of lag in Sóc Trăng), so some are missing.
    """
    female = rng.random() < 0.5
    birth_year = year - rng.randint(14, 85)
    person: dict[str, Any] = {"id_number": cccd(rng, birth_year=birth_year, female=female)}
    if rng.random() < 0.9:
        person["full_name"] = full_name(rng, female=female)
    if rng.random() < 0.85:
        person["phone"] = phone(rng)
    return person


def officer_ids(team: str, count: int) -> tuple[str, ...]:
    """``TH-01-C01-T1`` → ``CA-TH01-C01-T1-01`` … (CA: công an, the police officer)."""
    compact = team.replace("-", "", 1)
    return tuple(f"CA-{compact}-{n:02d}" for n in range(1, count + 1))

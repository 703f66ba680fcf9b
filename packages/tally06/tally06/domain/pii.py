"""Personal-data protection: a keyed hash for identity, authenticated encryption for clear values.

The identity key never rotates (it would split every citizen in two); encryption keys do:
``TALLY06_PII_KEYS`` lists ``id:base64key`` pairs, the first encrypts, all decrypt, so old rows
stay readable until re-encrypted.
"""

from __future__ import annotations

import base64
import hmac
import os
import re
from dataclasses import dataclass

import orjson
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from tally06.domain.exceptions import KeyConfigError

_NONCE_BYTES = 12


def _decode_key(text: str, what: str) -> bytes:
    try:
        raw = base64.urlsafe_b64decode(text.strip() + "=" * (-len(text.strip()) % 4))
    except ValueError as exc:
        raise KeyConfigError(f"{what}: not base64") from exc
    if len(raw) != 32:
        raise KeyConfigError(f"{what}: must decode to 32 bytes, got {len(raw)}")
    return raw


def derived_key(hmac_key: str, purpose: bytes) -> bytes:
    """A key of its own for ``purpose`` (signing links, sessions), derived from the identity key
    so that no extra secret is needed; it cannot be turned back into the identity key."""
    return hmac.digest(_decode_key(hmac_key, "TALLY06_HMAC_KEY"), purpose, "sha256")


def new_key() -> str:
    return base64.urlsafe_b64encode(os.urandom(32)).decode().rstrip("=")


@dataclass(frozen=True)
class SealedPii:
    key_id: str
    blob: bytes  # nonce || ciphertext+tag


# What a key id may hold: it is stored in every citizen_pii row and shown by ``tally06 pii keys``,
# and ``:`` and ``,`` separate the entries of TALLY06_PII_KEYS.
_KEY_ID = re.compile(r"[A-Za-z0-9_.-]{1,40}")


def valid_key_id(key_id: str) -> bool:
    return bool(_KEY_ID.fullmatch(key_id))


def new_key_entry(key_id: str) -> str:
    """A fresh ``id:base64key`` entry to put in front of TALLY06_PII_KEYS."""
    if not valid_key_id(key_id):
        raise KeyConfigError(f"key id {key_id!r}: use 1-40 letters, digits, '.', '_' or '-'")
    return f"{key_id}:{new_key()}"


class KeyRing:
    """TALLY06_PII_KEYS parsed: the first key seals, every key opens.

    Error messages name key ids, never key material.
    """

    def __init__(self, pii_keys: str) -> None:
        ring: dict[str, AESGCM] = {}
        for entry in filter(None, (part.strip() for part in pii_keys.split(","))):
            key_id, sep, material = entry.partition(":")
            if not sep or not key_id:
                raise KeyConfigError("TALLY06_PII_KEYS: entries must be id:base64key")
            # Two keys under one id would leave the rows of one of them unreadable, silently:
            # the classic slip when a rotation reuses "k1".
            if key_id in ring:
                raise KeyConfigError(f"TALLY06_PII_KEYS: key id {key_id!r} is given twice")
            ring[key_id] = AESGCM(_decode_key(material, f"TALLY06_PII_KEYS[{key_id}]"))
        if not ring:
            raise KeyConfigError("TALLY06_PII_KEYS: at least one key is required")
        self._ids = tuple(ring)
        self._ring = ring
        self._active = ring[self._ids[0]]

    @property
    def active_id(self) -> str:
        return self._ids[0]

    @property
    def ids(self) -> tuple[str, ...]:
        """Every key id, in ring order (the active one first)."""
        return self._ids

    def __contains__(self, key_id: object) -> bool:
        return key_id in self._ring

    def seal(self, values: dict[str, str | None], associated: str) -> SealedPii:
        nonce = os.urandom(_NONCE_BYTES)
        blob = self._active.encrypt(nonce, orjson.dumps(values), associated.encode())
        return SealedPii(self._ids[0], nonce + blob)

    def open(self, sealed: SealedPii, associated: str) -> dict[str, str | None]:
        try:
            aead = self._ring[sealed.key_id]
        except KeyError:
            raise KeyConfigError(f"no key {sealed.key_id!r} in TALLY06_PII_KEYS") from None
        nonce, blob = sealed.blob[:_NONCE_BYTES], sealed.blob[_NONCE_BYTES:]
        return orjson.loads(aead.decrypt(nonce, blob, associated.encode()))

    def reseal(self, sealed: SealedPii, associated: str) -> SealedPii:
        """The same values sealed with the active key, bound to the same associated data.

        Raises KeyConfigError (key id not in the ring) or cryptography's InvalidTag (wrong key
        material under that id, or the row does not belong to ``associated``).
        """
        return self.seal(self.open(sealed, associated), associated)


class CitizenProtector:
    """Hashes identities and seals clear personal data."""

    def __init__(self, hmac_key: str, pii_keys: str) -> None:
        self._hmac_key = _decode_key(hmac_key, "TALLY06_HMAC_KEY")
        self._keys = KeyRing(pii_keys)

    def citizen_key(self, id_number: str) -> str:
        """Stable pseudonymous identity of a citizen (HMAC-SHA256 of the CCCD)."""
        return hmac.digest(self._hmac_key, id_number.encode(), "sha256").hex()

    def content_digest(self, canonical: bytes) -> str:
        """Digest of an event's content; keyed because the content includes the CCCD."""
        return hmac.digest(self._hmac_key, b"content:" + canonical, "sha256").hex()

    def seal(self, values: dict[str, str | None], associated: str) -> SealedPii:
        return self._keys.seal(values, associated)

    def open(self, sealed: SealedPii, associated: str) -> dict[str, str | None]:
        return self._keys.open(sealed, associated)

    @property
    def active_key_id(self) -> str:
        return self._keys.active_id

    @property
    def keys(self) -> KeyRing:
        return self._keys


def mask_cccd(id_number: str) -> str:
    return id_number[:3] + "*" * 6 + id_number[-3:]


def mask_phone(phone: str) -> str:
    return phone[:3] + "*" * (len(phone) - 6) + phone[-3:]

"""Personal-data protection: a keyed hash for identity, authenticated encryption for clear values.

The identity key never rotates (it would split every citizen in two); encryption keys do:
``TALLY06_PII_KEYS`` lists ``id:base64key`` pairs, the first encrypts, all decrypt, so old rows
stay readable until re-encrypted.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
from dataclasses import dataclass

import orjson
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from tally06.exceptions import KeyConfigError

_NONCE_BYTES = 12


def _decode_key(text: str, what: str) -> bytes:
    try:
        raw = base64.urlsafe_b64decode(text.strip() + "=" * (-len(text.strip()) % 4))
    except ValueError as exc:
        raise KeyConfigError(f"{what}: not base64") from exc
    if len(raw) != 32:
        raise KeyConfigError(f"{what}: must decode to 32 bytes, got {len(raw)}")
    return raw


def new_key() -> str:
    return base64.urlsafe_b64encode(os.urandom(32)).decode().rstrip("=")


@dataclass(frozen=True)
class SealedPii:
    key_id: str
    blob: bytes  # nonce || ciphertext+tag


class CitizenProtector:
    """Hashes identities and seals clear personal data."""

    def __init__(self, hmac_key: str, pii_keys: str) -> None:
        self._hmac_key = _decode_key(hmac_key, "TALLY06_HMAC_KEY")
        ring: list[tuple[str, AESGCM]] = []
        for entry in filter(None, (part.strip() for part in pii_keys.split(","))):
            key_id, sep, material = entry.partition(":")
            if not sep or not key_id:
                raise KeyConfigError("TALLY06_PII_KEYS: entries must be id:base64key")
            ring.append((key_id, AESGCM(_decode_key(material, f"TALLY06_PII_KEYS[{key_id}]"))))
        if not ring:
            raise KeyConfigError("TALLY06_PII_KEYS: at least one key is required")
        self._active_id, self._active = ring[0]
        self._ring = dict(ring)

    def citizen_key(self, id_number: str) -> str:
        """Stable pseudonymous identity of a citizen (HMAC-SHA256 of the CCCD)."""
        return hmac.new(self._hmac_key, id_number.encode(), hashlib.sha256).hexdigest()

    def content_digest(self, canonical: bytes) -> str:
        """Digest of an event's content; keyed because the content includes the CCCD."""
        return hmac.new(self._hmac_key, b"content:" + canonical, hashlib.sha256).hexdigest()

    def seal(self, values: dict[str, str | None], associated: str) -> SealedPii:
        nonce = os.urandom(_NONCE_BYTES)
        blob = self._active.encrypt(nonce, orjson.dumps(values), associated.encode())
        return SealedPii(self._active_id, nonce + blob)

    def open(self, sealed: SealedPii, associated: str) -> dict[str, str | None]:
        try:
            aead = self._ring[sealed.key_id]
        except KeyError:
            raise KeyConfigError(f"no key {sealed.key_id!r} in TALLY06_PII_KEYS") from None
        nonce, blob = sealed.blob[:_NONCE_BYTES], sealed.blob[_NONCE_BYTES:]
        return orjson.loads(aead.decrypt(nonce, blob, associated.encode()))

    @property
    def active_key_id(self) -> str:
        return self._active_id


def mask_cccd(id_number: str) -> str:
    return id_number[:3] + "*" * 6 + id_number[-3:]


def mask_phone(phone: str) -> str:
    return phone[:3] + "*" * (len(phone) - 6) + phone[-3:]

"""Webhook signatures as a receiver checks them: only the right secret, body and time pass."""

import pytest

from tally06_notifier.webhook_signing import (
    DELIVERY_HEADER,
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    sign,
    signed_headers,
    verify,
)

SECRET = b"bi-mat-cua-cau-noi-zalo"
BODY = '{"id":"n-42","subject":"Huyện Đông Sơn chậm tiến độ"}'.encode()
NOW = 1_730_000_000


def headers(timestamp=NOW, body=BODY, secret=SECRET):
    return signed_headers(secret, "n-42", timestamp, body)


def test_round_trip():
    assert verify(SECRET, headers(), BODY, now=NOW)


def test_signature_format_is_v1_hex_sha256():
    value = sign(SECRET, NOW, BODY)
    scheme, _, digest = value.partition("=")
    assert scheme == "v1" and len(digest) == 64 and int(digest, 16) >= 0
    assert sign(SECRET, NOW, BODY) == value  # deterministic, so receivers can recompute it


def test_header_names_match_without_case():
    lowered = {name.lower(): value for name, value in headers().items()}
    assert verify(SECRET, lowered, BODY, now=NOW)


def test_tampered_body_is_rejected():
    tampered = BODY.replace("Đông Sơn".encode(), "Tĩnh Gia".encode())
    assert not verify(SECRET, headers(), tampered, now=NOW)


def test_wrong_secret_is_rejected():
    assert not verify(b"another-secret", headers(), BODY, now=NOW)


def test_tampered_timestamp_is_rejected():
    forged = headers() | {TIMESTAMP_HEADER: str(NOW + 1)}
    assert not verify(SECRET, forged, BODY, now=NOW)


@pytest.mark.parametrize("age", [301, -301, 86_400])
def test_stale_or_future_timestamp_is_rejected(age):
    assert not verify(SECRET, headers(timestamp=NOW - age), BODY, now=NOW)


def test_timestamp_within_tolerance_is_accepted():
    assert verify(SECRET, headers(timestamp=NOW - 299), BODY, now=NOW)
    assert not verify(SECRET, headers(timestamp=NOW - 60), BODY, now=NOW, tolerance_s=30)


@pytest.mark.parametrize("missing", [DELIVERY_HEADER, TIMESTAMP_HEADER, SIGNATURE_HEADER])
def test_missing_header_is_rejected(missing):
    partial = {name: value for name, value in headers().items() if name != missing}
    assert not verify(SECRET, partial, BODY, now=NOW)


@pytest.mark.parametrize(
    "changes",
    [
        {TIMESTAMP_HEADER: "not-a-number"},
        {TIMESTAMP_HEADER: ""},
        {SIGNATURE_HEADER: "v0=" + sign(SECRET, NOW, BODY).partition("=")[2]},
        {SIGNATURE_HEADER: sign(SECRET, NOW, BODY).partition("=")[2]},
        {SIGNATURE_HEADER: "v1=Đ"},
    ],
)
def test_malformed_headers_are_rejected_without_raising(changes):
    assert not verify(SECRET, headers() | changes, BODY, now=NOW)


def test_any_listed_signature_may_match_during_secret_rotation():
    rotated = headers() | {SIGNATURE_HEADER: f"{sign(b'old', NOW, BODY)} {sign(SECRET, NOW, BODY)}"}
    assert verify(SECRET, rotated, BODY, now=NOW)

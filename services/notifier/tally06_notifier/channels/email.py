"""E-mail over SMTP with aiosmtplib."""

from __future__ import annotations

import hashlib
from email.errors import HeaderParseError
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import formatdate

import aiosmtplib

from tally06_notifier.exceptions import DeliveryFailed
from tally06_notifier.messages import OutgoingMessage

DEDUPE_HEADER = "X-Tally06-Dedupe-Key"


def message_id(dedupe_key: str) -> str:
    """The same Message-ID for every attempt, so mail clients show a repeat only once."""
    return f"<{hashlib.sha256(dedupe_key.encode()).hexdigest()[:32]}@tally06>"


def build_email(message: OutgoingMessage, sender: str) -> EmailMessage:
    try:
        to = Address(display_name=_one_line(message.recipient_name), addr_spec=message.address)
    except (ValueError, IndexError, HeaderParseError) as exc:
        raise DeliveryFailed(f"malformed e-mail address {message.address!r}: {exc}", retryable=False) from exc
    if not to.username or not to.domain:
        raise DeliveryFailed(f"malformed e-mail address {message.address!r}", retryable=False)
    mail = EmailMessage()
    mail["From"] = sender
    mail["To"] = to
    mail["Subject"] = _one_line(message.subject)
    mail["Date"] = formatdate(localtime=False, usegmt=True)
    mail["Message-ID"] = message_id(message.dedupe_key)
    mail[DEDUPE_HEADER] = message.dedupe_key
    mail.set_content(message.body, charset="utf-8")
    return mail


class EmailChannel:
    name = "email"

    def __init__(
        self,
        host: str,
        port: int,
        sender: str,
        username: str | None = None,
        password: str | None = None,
        use_tls: bool = False,
        start_tls: bool | None = None,
        timeout_s: float = 10,
    ) -> None:
        self.host = host
        self.port = port
        self.sender = sender
        self._username = username
        self._password = password
        self._use_tls = use_tls
        # None lets aiosmtplib upgrade when the server offers STARTTLS.
        self._start_tls = start_tls
        self._timeout_s = timeout_s

    async def send(self, message: OutgoingMessage) -> None:
        mail = build_email(message, self.sender)
        try:
            # One connection per message: alerts are rare, and a pooled connection would need
            # its own liveness checks against servers that drop idle clients.
            await aiosmtplib.send(
                mail,
                hostname=self.host,
                port=self.port,
                username=self._username,
                password=self._password,
                use_tls=self._use_tls,
                start_tls=self._start_tls,
                timeout=self._timeout_s,
            )
        except aiosmtplib.SMTPRecipientsRefused as exc:
            codes = [refused.code for refused in exc.recipients]
            raise DeliveryFailed(
                f"SMTP refused {message.address}: {exc}", retryable=all(_transient(c) for c in codes)
            ) from exc
        except aiosmtplib.SMTPResponseException as exc:
            raise DeliveryFailed(f"SMTP {exc.code}: {exc.message}", retryable=_transient(exc.code)) from exc
        except (aiosmtplib.SMTPException, OSError, TimeoutError) as exc:
            # Connection refused or reset, timeouts, a server that hung up: all may pass.
            raise DeliveryFailed(f"SMTP {self.host}:{self.port}: {exc!r}", retryable=True) from exc

    async def aclose(self) -> None:
        """Nothing held between messages."""


def _one_line(text: str) -> str:
    # A line break in a header would be refused (or worse, start a new header); names and
    # subjects come from the org registry and templates, so fold them instead of failing.
    return " ".join(text.split())


def _transient(code: int) -> bool:
    return 400 <= code < 500

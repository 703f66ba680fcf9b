"""The delivery channels against real servers on real sockets: an SMTP server (aiosmtpd) and an
HTTP receiver (aiohttp) that checks signatures the way the Zalo/SMS bridge does."""

from __future__ import annotations

import asyncio
import email
import email.policy
import io
import re
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field, replace

import orjson
import pytest
from aiohttp import web
from aiosmtpd.controller import Controller

from tally06.kit.ports import free_port
from tally06_notifier import webhook_signing
from tally06_notifier.channels import Channel, Channels
from tally06_notifier.channels.console import ConsoleChannel
from tally06_notifier.channels.email import EmailChannel, message_id
from tally06_notifier.channels.webhook import WebhookChannel
from tally06_notifier.exceptions import DeliveryFailed
from tally06_notifier.messages import OutgoingMessage

SUBJECT = "Cảnh báo: Huyện Đông Sơn chậm tiến độ kích hoạt định danh mức 2"
BODY = "Đội TH-03-C01-T1 mới đạt 42% chỉ tiêu hôm nay.\nĐề nghị đồng chí đôn đốc."
SECRET = b"khoa-bi-mat-webhook"


def outgoing(channel: str, address: str, **changes) -> OutgoingMessage:
    message = OutgoingMessage(
        notification_id=42,
        dedupe_key="behind-pace:TH-03:2024-10-25:officer-7",
        recipient_name="Nguyễn Văn Ánh",
        channel=channel,
        address=address,
        subject=SUBJECT,
        body=BODY,
        payload={"unit": "TH-03", "pace": 0.42, "tên": "Đông Sơn"},
    )
    return replace(message, **changes)


# --- SMTP ---------------------------------------------------------------------------------


@dataclass
class MailRecorder:
    """aiosmtpd handler: keeps what arrives; refuses recipients by the reply set in ``refuse``."""

    refuse: dict[str, str] = field(default_factory=dict)
    received: list = field(default_factory=list)

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # noqa: N802 - aiosmtpd's hook names
        if address in self.refuse:
            return self.refuse[address]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's hook names
        self.received.append(envelope)
        return "250 Message accepted for delivery"


@pytest.fixture(scope="module")
def smtp_server() -> Iterator[tuple[Controller, MailRecorder]]:
    recorder = MailRecorder(
        refuse={
            "khong-ton-tai@example.vn": "550 5.1.1 No such user",
            "hop-thu-day@example.vn": "451 4.2.2 Mailbox busy, try later",
        }
    )
    controller = Controller(recorder, hostname="127.0.0.1", port=free_port())
    controller.start()
    try:
        yield controller, recorder
    finally:
        controller.stop()


def email_channel(controller: Controller, **kwargs) -> EmailChannel:
    return EmailChannel(
        controller.hostname, controller.port, "Tally06 <canh-bao@tally06.example.vn>", timeout_s=5, **kwargs
    )


async def test_email_arrives_with_vietnamese_subject_and_deterministic_message_id(smtp_server):
    controller, recorder = smtp_server
    recorder.received.clear()
    channel = email_channel(controller)
    message = outgoing("email", "anh.nv@example.vn")

    await channel.send(message)
    await channel.send(message)  # a retry of the same notification

    assert len(recorder.received) == 2
    first, second = (
        email.message_from_bytes(envelope.original_content, policy=email.policy.default)
        for envelope in recorder.received
    )
    assert recorder.received[0].rcpt_tos == ["anh.nv@example.vn"]
    assert recorder.received[0].mail_from == "canh-bao@tally06.example.vn"
    assert first["Subject"] == SUBJECT
    assert first["To"].addresses[0].display_name == "Nguyễn Văn Ánh"
    assert first["To"].addresses[0].addr_spec == "anh.nv@example.vn"
    assert first["X-Tally06-Dedupe-Key"] == message.dedupe_key
    assert first.get_content().splitlines() == BODY.splitlines()  # SMTP carries CRLF
    assert re.fullmatch(r"<[0-9a-f]{32}@tally06>", first["Message-ID"])
    assert first["Message-ID"] == second["Message-ID"] == message_id(message.dedupe_key)
    assert message_id("another-key") != first["Message-ID"]


@pytest.mark.parametrize(("address", "retryable", "code"), [
    ("khong-ton-tai@example.vn", False, "550"),  # a 5xx refusal is permanent
    ("hop-thu-day@example.vn", True, "451"),  # a 4xx refusal is retried
])
async def test_recipient_refused(smtp_server, address, retryable, code):
    controller, _ = smtp_server
    with pytest.raises(DeliveryFailed) as failed:
        await email_channel(controller).send(outgoing("email", address))
    assert failed.value.retryable is retryable
    assert code in failed.value.reason


async def test_smtp_server_not_listening_is_retryable():
    channel = EmailChannel("127.0.0.1", free_port(), "canh-bao@tally06.example.vn", timeout_s=2)
    with pytest.raises(DeliveryFailed) as failed:
        await channel.send(outgoing("email", "anh.nv@example.vn"))
    assert failed.value.retryable is True


@pytest.mark.parametrize("address", ["khong-phai-email", "a@", "", "x@y.vn\r\nBcc: z@z.vn"])
async def test_malformed_email_address_is_permanent(smtp_server, address):
    controller, recorder = smtp_server
    recorder.received.clear()
    with pytest.raises(DeliveryFailed) as failed:
        await email_channel(controller).send(outgoing("email", address))
    assert failed.value.retryable is False
    assert recorder.received == []


# --- webhook ------------------------------------------------------------------------------


@dataclass
class Receiver:
    """An HTTP receiver like the Zalo/SMS bridge: verifies each post and records it."""

    base_url: str
    posts: list[dict] = field(default_factory=list)

    async def handle(self, request: web.Request) -> web.Response:
        raw = await request.read()
        valid = webhook_signing.verify(SECRET, request.headers, raw, now=int(time.time()))
        self.posts.append({"path": request.path, "headers": dict(request.headers), "raw": raw, "valid": valid})
        if request.path == "/slow":
            await asyncio.sleep(1.5)
        if request.path.startswith("/status/"):
            return web.Response(status=int(request.path.rsplit("/", 1)[1]), text="từ chối")
        return web.json_response({"ok": valid}, status=200 if valid else 401)


@pytest.fixture(scope="module")
async def receiver() -> AsyncIterator[Receiver]:
    app = web.Application()
    port = free_port()
    recv = Receiver(f"http://127.0.0.1:{port}")
    app.router.add_route("POST", "/{tail:.*}", recv.handle)
    # Short shutdown: the /slow handler may still be sleeping when the module ends.
    runner = web.AppRunner(app, shutdown_timeout=0.5)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    try:
        yield recv
    finally:
        await runner.cleanup()


@pytest.fixture
async def webhook() -> AsyncIterator[WebhookChannel]:
    channel = WebhookChannel(SECRET, timeout_s=0.5)
    try:
        yield channel
    finally:
        await channel.aclose()


async def test_webhook_200_is_delivered_with_valid_signature(receiver, webhook):
    receiver.posts.clear()
    message = outgoing("webhook", f"{receiver.base_url}/zalo")

    await webhook.send(message)

    [post] = receiver.posts
    assert post["valid"] is True
    assert post["headers"]["X-Tally06-Delivery"] == message.dedupe_key
    assert post["headers"]["Content-Type"] == "application/json"
    body = orjson.loads(post["raw"])
    assert body["id"] == message.dedupe_key
    assert body["notification_id"] == 42
    assert body["recipient"] == "Nguyễn Văn Ánh"
    assert body["subject"] == SUBJECT
    assert body["body"] == BODY
    assert body["payload"] == {"unit": "TH-03", "pace": 0.42, "tên": "Đông Sơn"}
    assert abs(int(post["headers"]["X-Tally06-Timestamp"]) - time.time()) < 5
    assert body["sent_at"].endswith("+00:00")


async def test_webhook_signed_with_another_secret_fails_verification(receiver):
    receiver.posts.clear()
    channel = WebhookChannel(b"sai-khoa", timeout_s=0.5)
    try:
        with pytest.raises(DeliveryFailed) as failed:
            await channel.send(outgoing("webhook", f"{receiver.base_url}/zalo"))
    finally:
        await channel.aclose()
    assert receiver.posts[0]["valid"] is False
    assert failed.value.retryable is False  # 401 from the receiver


@pytest.mark.parametrize(
    ("status", "retryable"),
    [(500, True), (502, True), (503, True), (408, True), (425, True), (429, True),
     (400, False), (404, False), (410, False), (301, False)],
)
async def test_webhook_status_decides_retry(receiver, webhook, status, retryable):
    with pytest.raises(DeliveryFailed) as failed:
        await webhook.send(outgoing("webhook", f"{receiver.base_url}/status/{status}"))
    assert failed.value.retryable is retryable
    assert str(status) in failed.value.reason


async def test_webhook_timeout_is_retryable(receiver, webhook):
    started = time.monotonic()
    with pytest.raises(DeliveryFailed) as failed:
        await webhook.send(outgoing("webhook", f"{receiver.base_url}/slow"))
    assert failed.value.retryable is True
    assert time.monotonic() - started < 1.4  # gave up at timeout_s, did not wait for the answer


async def test_webhook_receiver_not_listening_is_retryable(webhook):
    with pytest.raises(DeliveryFailed) as failed:
        await webhook.send(outgoing("webhook", f"http://127.0.0.1:{free_port()}/zalo"))
    assert failed.value.retryable is True


@pytest.mark.parametrize("address", ["khong-phai-url", "ftp://example.vn/hook", "http://", "/relative/path"])
async def test_malformed_webhook_url_is_permanent(webhook, address):
    with pytest.raises(DeliveryFailed) as failed:
        await webhook.send(outgoing("webhook", address))
    assert failed.value.retryable is False


# --- console and the registry -------------------------------------------------------------


async def test_console_writes_subject_and_body():
    stream = io.StringIO()
    await ConsoleChannel(stream=stream, width=60).send(outgoing("console", "phòng trực ban"))
    text = stream.getvalue()
    assert SUBJECT in text
    assert "Nguyễn Văn Ánh" in text
    assert "Đề nghị đồng chí đôn đốc." in text


async def test_console_survives_markup_in_data():
    stream = io.StringIO()
    await ConsoleChannel(stream=stream).send(
        outgoing("console", "[bold", recipient_name="[/red] Đội [x", subject="[link=", body="[/]")
    )
    assert "[/red] Đội [x" in stream.getvalue()


async def test_registry_dispatches_by_channel_name(smtp_server, receiver):
    controller, recorder = smtp_server
    recorder.received.clear()
    receiver.posts.clear()
    stream = io.StringIO()
    channels = Channels([email_channel(controller), WebhookChannel(SECRET, timeout_s=2), ConsoleChannel(stream)])
    try:
        assert all(isinstance(channel, Channel) for channel in channels._by_name.values())
        await channels.send(outgoing("email", "anh.nv@example.vn"))
        await channels.send(outgoing("webhook", f"{receiver.base_url}/sms"))
        await channels.send(outgoing("console", "trực ban"))
        with pytest.raises(DeliveryFailed) as failed:
            await channels.send(outgoing("zalo", "0912345678"))
    finally:
        await channels.aclose()
    assert len(recorder.received) == 1
    assert [post["valid"] for post in receiver.posts] == [True]
    assert SUBJECT in stream.getvalue()
    assert failed.value.retryable is False
    assert "zalo" in failed.value.reason

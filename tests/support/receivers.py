"""Real receivers for notifications: an SMTP server (aiosmtpd) and a webhook endpoint (aiohttp)."""

from __future__ import annotations

import asyncio
import email
import email.policy
import time
from collections import Counter
from dataclasses import dataclass, field

from aiohttp import web
from aiosmtpd.controller import Controller

from tally06.kit.ports import free_port
from tally06_notifier import webhook_signing


@dataclass
class Inbox:
    """Every mail that arrives, as (recipient, subject, dedupe key)."""

    mails: list[tuple[str, str, str]] = field(default_factory=list)

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's hook name
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        for rcpt in envelope.rcpt_tos:
            self.mails.append((rcpt, str(message["Subject"]), str(message["X-Tally06-Dedupe-Key"])))
        return "250 OK"


class SmtpServer:
    def __init__(self) -> None:
        self.inbox = Inbox()
        self.controller = Controller(self.inbox, hostname="127.0.0.1", port=free_port())

    @property
    def port(self) -> int:
        return self.controller.port

    def __enter__(self) -> SmtpServer:
        self.controller.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.controller.stop()


@dataclass
class WebhookReceiver:
    """Verifies signatures like the Zalo/SMS bridge; can fail the first attempts or answer slowly."""

    secret: bytes
    port: int = field(default_factory=free_port)
    delay_s: float = 0.0
    # path → each delivery to it is refused (503) this many times before it is taken
    refuse_first: dict[str, int] = field(default_factory=dict)
    gone: set[str] = field(default_factory=set)  # paths that answer 410 Gone
    refused: Counter = field(default_factory=Counter)  # delivery id → refusals so far
    posts: list[dict] = field(default_factory=list)
    _runner: web.AppRunner | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def _handle(self, request: web.Request) -> web.Response:
        raw = await request.read()
        if not webhook_signing.verify(self.secret, request.headers, raw, now=int(time.time())):
            return web.Response(status=401)
        delivery = request.headers["X-Tally06-Delivery"]
        if request.path in self.gone:
            return web.Response(status=410)
        if self.refused[delivery] < self.refuse_first.get(request.path, 0):
            self.refused[delivery] += 1
            return web.Response(status=503)
        await asyncio.sleep(self.delay_s)
        self.posts.append({"path": request.path, "delivery": delivery,
                           "body": await request.json()})
        return web.json_response({"ok": True})

    async def start(self) -> WebhookReceiver:
        app = web.Application()
        app.router.add_route("POST", "/{tail:.*}", self._handle)
        self._runner = web.AppRunner(app, shutdown_timeout=0.5)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", self.port).start()
        return self

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

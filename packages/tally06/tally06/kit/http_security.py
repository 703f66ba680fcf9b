"""Security headers on every HTTP response: a small ASGI middleware any service wraps its app in.

A JSON API wants the strictest policy (``JSON_API_CSP``: the browser may load nothing, nor
frame the answer); a service that serves pages passes its own Content-Security-Policy. A
header the application already set is left as it is, so one route can loosen or tighten it.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, MutableMapping
from typing import Any

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

# default-src does not cover frame-ancestors: nothing may show an answer in a frame either.
JSON_API_CSP = "default-src 'none'; frame-ancestors 'none'"


def _encode(pairs: Iterable[tuple[str, str | None]]) -> tuple[tuple[bytes, bytes], ...]:
    return tuple((name.lower().encode("latin-1"), value.encode("latin-1")) for name, value in pairs if value)


class SecurityHeaders:
    def __init__(
        self,
        app: ASGIApp,
        *,
        content_security_policy: str | None = JSON_API_CSP,
        cache_control: str | None = "no-store",
        referrer_policy: str = "no-referrer",
        csp_exempt_paths: Iterable[str] = (),
    ) -> None:
        """``content_security_policy`` None sends none; ``cache_control`` None leaves caching
        to the routes (pages with static assets); ``csp_exempt_paths`` get every header but the
        policy (a third-party page such as interactive API docs)."""
        self.app = app
        common = _encode([
            ("X-Content-Type-Options", "nosniff"),
            ("Referrer-Policy", referrer_policy),
            ("Cache-Control", cache_control),
        ])
        self._without_csp = common
        self._with_csp = common + _encode([("Content-Security-Policy", content_security_policy)])
        self._exempt = frozenset(csp_exempt_paths)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        extra = self._without_csp if scope.get("path") in self._exempt else self._with_csp

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", ()))
                present = {bytes(name).lower() for name, _ in headers}
                headers.extend(pair for pair in extra if pair[0] not in present)
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_headers)

"""Alerts printed to a terminal: the demo's channel, and a fallback when nothing else is set up."""

from __future__ import annotations

import sys
from typing import TextIO

from rich.console import Console
from rich.markup import escape
from rich.panel import Panel

from tally06_notifier.messages import OutgoingMessage


class ConsoleChannel:
    name = "console"

    def __init__(self, stream: TextIO | None = None, width: int | None = None) -> None:
        # sys.stdout is looked up now, not at import, so a redirect made before start-up
        # (pytest's capture, the CLI writing to a log) is honoured.
        self._stream = stream if stream is not None else sys.stdout
        self._console = Console(file=self._stream, width=width, highlight=False)

    async def send(self, message: OutgoingMessage) -> None:
        # Names and texts come from data: escape them, or "[red]" in a unit name would be read
        # as markup, and a malformed tag would raise.
        headline = f"[bold]🔔 ALERT → {escape(message.recipient_name)}: {escape(message.subject)}[/bold]"
        footer = f"#{message.notification_id} · {escape(message.address)} · {escape(message.dedupe_key)}"
        try:
            # The headline is printed on its own with soft wrap: a panel title would be cut
            # short on a narrow terminal, and the subject is what the reader needs.
            self._console.print(headline, soft_wrap=True)
            self._console.print(Panel(escape(message.body), subtitle=footer, subtitle_align="right"))
        except Exception:  # noqa: BLE001
            self._write_plain(message)

    def _write_plain(self, message: OutgoingMessage) -> None:
        # Last resort (e.g. a stream that cannot encode the emoji): plain text, with whatever
        # the stream cannot encode replaced, so the alert is still seen.
        text = f"ALERT -> {message.recipient_name}: {message.subject}\n{message.body}\n"
        encoding = getattr(self._stream, "encoding", None) or "ascii"
        try:
            self._stream.write(text.encode(encoding, "replace").decode(encoding))
            self._stream.flush()
        except Exception:  # noqa: BLE001
            pass  # a closed stream: nowhere left to write

    async def aclose(self) -> None:
        """The stream belongs to the caller."""

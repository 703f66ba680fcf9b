"""Delivery channels: one port (:class:`Channel`) and a registry that picks one per message."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Protocol, runtime_checkable

from tally06_notifier.exceptions import DeliveryFailed
from tally06_notifier.messages import OutgoingMessage


@runtime_checkable
class Channel(Protocol):
    """Hands one message to the outside world.

    ``send`` returns once the other side has accepted the message and raises
    :class:`DeliveryFailed` otherwise; it never retries by itself, the caller decides when.
    """

    name: str

    async def send(self, message: OutgoingMessage) -> None: ...

    async def aclose(self) -> None: ...


class Channels:
    """The configured channels by name; a message goes to the one its ``channel`` names."""

    def __init__(self, channels: Iterable[Channel] = ()) -> None:
        self._by_name: dict[str, Channel] = {}
        for channel in channels:
            self.register(channel)

    def register(self, channel: Channel) -> None:
        if channel.name in self._by_name:
            raise ValueError(f"channel {channel.name!r} is registered twice")
        self._by_name[channel.name] = channel

    def __contains__(self, name: object) -> bool:
        return name in self._by_name

    def names(self) -> list[str]:
        return sorted(self._by_name)

    async def send(self, message: OutgoingMessage) -> None:
        channel = self._by_name.get(message.channel)
        if channel is None:
            # Configuration will not change while the message waits, so retrying cannot help.
            raise DeliveryFailed(
                f"no channel {message.channel!r} is configured (have: {', '.join(self.names())})",
                retryable=False,
            )
        await channel.send(message)

    async def aclose(self) -> None:
        # Close every channel even if one fails, then report the first failure.
        first_error: BaseException | None = None
        for channel in self._by_name.values():
            try:
                await channel.aclose()
            except Exception as exc:  # noqa: BLE001
                first_error = first_error or exc
        if first_error is not None:
            raise first_error


__all__ = ["Channel", "Channels"]

"""Errors of the notifier service."""

from tally06.exceptions import Tally06Error


class NotifierError(Tally06Error):
    """Base of every error the notifier raises on purpose."""


class DeliveryFailed(NotifierError):
    """A channel could not hand a message over.

    ``retryable`` decides the message's fate: True sends it again later (the server may
    recover: refused or reset connections, timeouts, SMTP 4xx, HTTP 408/425/429/5xx); False
    gives up at once, because repeating cannot help (recipient refused, HTTP 4xx, a malformed
    address).
    """

    def __init__(self, reason: str, *, retryable: bool) -> None:
        super().__init__(f"{'retryable' if retryable else 'permanent'}: {reason}")
        self.reason = reason
        self.retryable = retryable

"""Typed errors raised by the whatwatt Go client and parsers."""

from __future__ import annotations


class WhatwattError(Exception):
    """Base class of every error raised by this package."""


class WhatwattConnectionError(WhatwattError):
    """The device could not be reached (refused, reset, DNS, routing)."""


class WhatwattTimeoutError(WhatwattConnectionError):
    """The device did not answer within the client timeout."""


class WhatwattStreamClosedError(WhatwattConnectionError):
    """The device ended an open stream cleanly (end of stream, not a broken connection).

    The live stream serves one client: this is what a take-over by another client looks like.
    A connection that breaks off (Wi-Fi drop, reboot) raises WhatwattStreamBrokenError instead.
    """


class WhatwattStreamBrokenError(WhatwattConnectionError):
    """An open stream broke off: the connection went before the device ended the response.

    What a reboot or a Wi-Fi drop looks like, often in the middle of an event (aiohttp's
    ``ClientPayloadError``, ``ServerDisconnectedError``, a reset); never a take-over.
    """


class WhatwattAuthError(WhatwattError):
    """The device refused the credentials (401 after a fresh challenge)."""


class WhatwattLicenseError(WhatwattError):
    """A licence-gated route answered 404: the device needs a Plus licence."""


class WhatwattInvalidResponseError(WhatwattError):
    """The device (or a payload) sent something that is not what the API promises."""


class WhatwattBusyError(WhatwattError):
    """The device answered 429 (too many requests, throttled, action running)."""


class WhatwattUnavailableError(WhatwattError):
    """The device answered 503 (busy updating, streaming unavailable)."""


class WhatwattRequestError(WhatwattError):
    """The device rejected a request (400, 404, 409, 413 ...) with its own reason."""

    def __init__(self, status: int, error: str | None = None, message: str | None = None) -> None:
        """Keep the status code and the device's error key and message."""
        self.status = status
        self.error = error
        self.message = message
        super().__init__(f"HTTP {status}: {message or error or 'request rejected'}")

"""What can go wrong with PICO, and whether trying again later can help.

Like OCA ``queue_job/exception.py``: the engines catch these and decide between
a back-off (``retryable``) and a failure a person must look at.
"""


class PicoError(Exception):
    """A failed exchange with PICO; ``retryable`` tells whether to try again later."""

    retryable = False


class PicoTransportError(PicoError):
    """PICO could not be reached, or did not answer in time."""

    retryable = True


class PicoHttpError(PicoError):
    """PICO answered with an HTTP error status (5xx and 429 are retryable)."""

    def __init__(self, status, reason=""):
        super().__init__(
            f"PICO answered HTTP {status}{f': {reason}' if reason else ''}"
        )
        self.status = status
        self.retryable = status >= 500 or status == 429


class PicoGraphQLError(PicoError):
    """PICO answered 200 with GraphQL ``errors``; ``data`` holds any partial result."""

    def __init__(self, errors, data=None):
        messages = "; ".join(str(e.get("message", e)) for e in errors[:5])
        super().__init__(f"PICO rejected the request: {messages}")
        self.errors = errors
        self.data = data or {}


class PicoResponseError(PicoError):
    """PICO answered something that is not a GraphQL response."""


class PicoCopyHeld(PicoError):
    """This database is a copy whose new order prefix is not confirmed yet: it
    does not call PICO (an administrator confirms the prefix in the settings)."""


class PicoProcessingError(Exception):
    """A received message cannot be applied as it is: a person must look at it."""


class PicoStateError(Exception):
    """A message or unit was asked for a transition its state does not allow."""


class PicoIncompleteAnswer(PicoError):
    """PICO answered without a result for some inputs, and said nothing about them."""

    retryable = True


class PicoFalseAnswer(PicoError):
    """PICO answered a mutation with false: it says it did not do it."""

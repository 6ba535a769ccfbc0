"""Fault injection for GraphQL requests and webhook deliveries."""

import threading
from dataclasses import asdict, dataclass

ANSWERS = ("false", "null", "no_data")  # the ``answer`` fault


@dataclass(frozen=True)
class RequestFaults:
    """What to do to a GraphQL request before (or instead of) executing it.

    ``latency`` seconds are slept first; then the first of ``drop_connection``
    (close the socket without answering), ``http_status`` (answer that status) or
    ``graphql_error`` (answer HTTP 200 with that GraphQL error) applies, and the
    request is not executed. ``refuse_alias`` executes the request but fails the
    root field of that response name (e.g. ``m1``) with a GraphQL error, as a
    server refusing one input of a batch. ``answer`` does not execute the
    request's mutations and answers each of them ``"false"`` or ``"null"``, or
    answers ``"no_data"`` (``{"data": null}`` without errors): what a server may
    answer to a nullable mutation. ``count`` limits the faults to the next N
    requests.
    """

    latency: float = 0.0
    http_status: int | None = None
    graphql_error: str | None = None
    drop_connection: bool = False
    refuse_alias: str | None = None
    answer: str | None = None
    count: int | None = None

    def __post_init__(self):
        if self.answer not in (None, *ANSWERS):
            raise ValueError(f"answer must be one of {', '.join(ANSWERS)}")
        if self.latency < 0:
            raise ValueError("latency must be >= 0")
        if self.http_status is not None and not 100 <= self.http_status <= 599:
            raise ValueError("http_status must be an HTTP status code")
        if self.count is not None and self.count < 1:
            raise ValueError("count must be >= 1 (or None for until cleared)")

    @property
    def active(self) -> bool:
        return bool(
            self.latency
            or self.http_status
            or self.graphql_error
            or self.drop_connection
            or self.refuse_alias
            or self.answer
        )


@dataclass(frozen=True)
class DeliveryFaults:
    """``duplicate``: send every event twice; ``reorder``: newest pending first."""

    duplicate: bool = False
    reorder: bool = False


class FaultInjector:
    """Holds the request faults and hands them out, counting down ``count``."""

    def __init__(self):
        self._lock = threading.Lock()
        self._faults = RequestFaults()
        self._remaining: int | None = None

    def set(self, **settings) -> RequestFaults:
        faults = RequestFaults(**settings)
        with self._lock:
            self._faults, self._remaining = faults, faults.count
        return faults

    def clear(self) -> None:
        self.set()

    def current(self) -> dict:
        with self._lock:
            return {**asdict(self._faults), "remaining": self._remaining}

    def take(self) -> RequestFaults | None:
        """The faults for the next request, or None when there are none."""
        with self._lock:
            faults = self._faults
            if not faults.active:
                return None
            if self._remaining is not None:
                self._remaining -= 1
                if self._remaining == 0:
                    self._faults, self._remaining = RequestFaults(), None
            return faults

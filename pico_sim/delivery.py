"""Webhook subscriptions and at-least-once delivery with exponential back-off.

Every event is shaped per subscription when it happens and stored as a pending
delivery, so pending deliveries survive a restart; each attempt uses the
subscription's current URL and headers (a re-subscription redirects pending
deliveries, an unsubscription abandons them). A delivery answered with a
2xx status is done; anything else (other status, timeout, refused connection)
is retried after ``base * 2 ** (attempts - 1)`` seconds, capped.
"""

import json
import logging
import threading
import time
from dataclasses import dataclass

import requests

from .faults import DeliveryFaults
from .schema import compile_response_fragment, shape_event
from .store import Store
from .times import now_iso

_logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class RetryPolicy:
    base_seconds: float = 1.0
    cap_seconds: float = 60.0

    def delay(self, attempts: int) -> float:
        return min(self.cap_seconds, self.base_seconds * 2 ** (attempts - 1))


class Webhooks:
    def __init__(self, store: Store, retry: RetryPolicy, timeout: float = 5.0):
        self._store = store
        self._retry = retry
        self._timeout = timeout
        self.faults = DeliveryFaults()
        self._pass_lock = threading.Lock()  # one delivery pass at a time
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._worker: threading.Thread | None = None

    # -- subscriptions ----------------------------------------------------------

    def subscribe(self, request: dict) -> str:
        """Create or replace the subscription named by ``subscriptionID``."""
        if not request["subscriptionID"].strip():
            raise ValueError("subscriptionID must not be empty")
        stream, _document = compile_response_fragment(request["responseFragment"])
        headers = request.get("webhookHeaders") or {}
        if not isinstance(headers, dict) or not all(
            isinstance(value, str) for value in headers.values()
        ):
            raise ValueError("webhookHeaders must be a JSON object of string values")
        self._store.put_subscription(
            {**request, "streamField": stream, "webhookHeaders": headers}
        )
        return "subscribed"

    def unsubscribe(self, subscription_id: str) -> str:
        if not self._store.delete_subscription(subscription_id):
            raise ValueError(f"unknown subscriptionID {subscription_id!r}")
        return "unsubscribed"

    # -- events -----------------------------------------------------------------

    def publish(self, stream: str, event: dict) -> None:
        """Queue one delivery of ``event`` for every subscription on ``stream``."""
        now = time.time()
        for subscription in self._store.subscriptions(stream):
            body = shape_event(subscription["responseFragment"], event)
            self._store.add_delivery(subscription["subscriptionID"], body, now)
        self._wake.set()

    def deliver_pending(self, force: bool = False) -> list[tuple[int | None, dict]]:
        """Attempt every due delivery (every pending one when ``force``).

        Returns (HTTP status or None on a connection error, body) per POST made.
        """
        with self._pass_lock:
            due = self._store.pending_deliveries(
                due_before=None if force else time.time(),
                newest_first=self.faults.reorder,
            )
            results = []
            for delivery in due:
                results.extend(self._attempt(delivery))
            return results

    def _attempt(self, delivery: dict) -> list[tuple[int | None, dict]]:
        subscription = self._store.subscription(delivery["subscriptionID"])
        if subscription is None:
            outcome = {"state": "abandoned", "last_error": "subscription removed"}
            self._store.record_attempt(delivery["id"], outcome)
            return []
        copies = 2 if self.faults.duplicate else 1
        results = [self._post(subscription, delivery["body"]) for _ in range(copies)]
        self._store.record_attempt(delivery["id"], self._outcome(delivery, results))
        return [(status, delivery["body"]) for status, _error in results]

    def _post(self, subscription: dict, body: dict) -> tuple[int | None, str | None]:
        headers = {**subscription["webhookHeaders"], "Content-Type": "application/json"}
        try:
            response = requests.post(
                subscription["webhookUrl"],
                data=json.dumps(body),
                headers=headers,
                timeout=self._timeout,
                allow_redirects=False,  # a redirect is not a delivery: retry later
            )
        except requests.RequestException as error:
            return None, f"{type(error).__name__}: {error}"
        return response.status_code, None

    def _outcome(self, delivery: dict, results: list) -> dict:
        status, error = results[-1]
        if any(code is not None and 200 <= code < 300 for code, _ in results):
            return {
                "state": "delivered",
                "last_status": status,
                "last_error": None,
                "delivered_at": now_iso(),
            }
        retry_at = time.time() + self._retry.delay(delivery["attempts"] + 1)
        return {
            "last_status": status,
            "last_error": error or f"HTTP {status}",
            "next_attempt_at": retry_at,
        }

    # -- background worker ------------------------------------------------------

    def start_worker(self) -> None:
        self._stopping.clear()
        self._worker = threading.Thread(
            target=self._run, name="pico-sim-delivery", daemon=True
        )
        self._worker.start()

    def stop_worker(self) -> None:
        if self._worker:
            self._stopping.set()
            self._wake.set()
            self._worker.join()
            self._worker = None

    def _run(self) -> None:
        while not self._stopping.is_set():
            self._wake.clear()
            try:
                self.deliver_pending()
            except Exception:  # keep delivering; one bad record must not stop it
                _logger.exception("webhook delivery pass failed")
            due = self._store.next_delivery_due()
            wait = 0.5 if due is None else min(0.5, max(0.0, due - time.time()))
            self._wake.wait(wait)

"""Counters of GraphQL traffic, for tests and benchmarks (units per request)."""

import threading
from collections import Counter, deque

from .times import now_iso

MUTATION_FIELDS = frozenset(
    {
        "operationOrderSave",
        "operationOrderCancel",
        "webhookSubscribe",
        "webhookUnsubscribe",
    }
)


class Stats:
    def __init__(self, log_size: int = 1000):
        self._lock = threading.Lock()
        self._log: deque[dict] = deque(maxlen=log_size)
        self._requests = 0
        self._faulted = 0
        self._fields: Counter = Counter()

    def record(
        self,
        status: int | None,
        fields: Counter,
        duration: float,
        operation_name: str | None = None,
        fault: str | None = None,
    ) -> None:
        """Count one GraphQL HTTP request (status None: connection dropped)."""
        entry = {
            "at": now_iso(),
            "status": status,
            "operationName": operation_name,
            "fields": dict(fields),
            "durationMs": round(duration * 1000, 1),
            "fault": fault,
        }
        with self._lock:
            self._requests += 1
            self._faulted += fault is not None
            self._fields.update(fields)
            self._log.append(entry)

    def log(self) -> list[dict]:
        with self._lock:
            return list(self._log)

    def snapshot(self) -> dict:
        with self._lock:
            fields = dict(self._fields)
            return {
                "graphqlRequests": self._requests,
                "faultedRequests": self._faulted,
                "mutations": {k: v for k, v in fields.items() if k in MUTATION_FIELDS},
                "queries": {
                    k: v for k, v in fields.items() if k not in MUTATION_FIELDS
                },
            }

    def reset(self) -> None:
        with self._lock:
            self._log.clear()
            self._requests = self._faulted = 0
            self._fields.clear()

"""Operation orders: the ERP's mutations and the shop floor building them.

An order is one unit, keyed by (externalOrderId, operationId, orderIndex); a
missing orderIndex means 0. States: open -> started -> completed, or
open -> cancelled. Completing a unit stores an OperationOrderComplete record and
publishes it on ``operationOrderCompletesStream``.
"""

import copy
import random
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from .store import CANCELLED, COMPLETED, OPEN, STARTED, OrderKey, Store
from .times import format_time, now_iso, parse_time, utc_now
from .work import WorkModel

COMPLETES_STREAM = "operationOrderCompletesStream"


class Floor:
    def __init__(self, store: Store, publish: Callable[[str, dict], None]):
        self._store = store
        self._publish = publish
        self._lock = threading.Lock()  # serialises state checks and transitions

    # -- the ERP side: mutations ------------------------------------------------

    def save_order(self, request: dict) -> str:
        key = self._order_key(request)
        return self._store.save_order(
            key,
            secondary_external_order_id=request.get("secondaryExternalOrderId"),
            reserved_serial_number=request.get("reservedSerialNumber"),
            optional_operation_ids=request.get("selectOptionalOperationIds"),
        )

    def cancel_orders(self, request: dict) -> str:
        """Cancel the open orders named; started and completed ones stay as they are."""
        external_order_id, operation_id, _index = self._order_key(request)
        if request.get("cancelAll"):
            order_index = None
        elif request.get("orderIndex") is not None:
            order_index = request["orderIndex"]
        else:
            raise ValueError("give orderIndex, or cancelAll: true for every index")
        with self._lock:
            self._store.cancel_open_orders(external_order_id, operation_id, order_index)
        return "canceled"

    def _order_key(self, request: dict) -> OrderKey:
        operation_id = request["operationId"]
        if self._store.operation(operation_id) is None:
            raise ValueError(f"unknown operationId {operation_id!r}")
        if not request.get("externalOrderId"):
            raise ValueError("externalOrderId is required")
        order_index = request.get("orderIndex") or 0
        if order_index < 0:
            raise ValueError("orderIndex must be >= 0")
        return request["externalOrderId"], operation_id, order_index

    # -- the floor side ---------------------------------------------------------

    def start_unit(
        self,
        external_order_id: str,
        operation_id: str,
        order_index: int,
        started_at: datetime | str | None = None,
    ) -> dict:
        key = (external_order_id, operation_id, order_index)
        with self._lock:
            self._require_order(key, OPEN)
            moment = format_time(_moment(started_at)) if started_at else now_iso()
            self._store.set_order_state(key, STARTED, started_at=moment)
        return self._store.order(key)

    def cancel_unit(
        self, external_order_id: str, operation_id: str, order_index: int
    ) -> dict:
        key = (external_order_id, operation_id, order_index)
        with self._lock:
            self._require_order(key, OPEN)
            self._store.set_order_state(key, CANCELLED)
        return self._store.order(key)

    def complete_unit(
        self,
        external_order_id: str,
        operation_id: str,
        order_index: int,
        produced_serial: str | None = None,
        consumed_serials: dict | list | None = None,
        reserved_serial: str | None = None,
        at: datetime | str | None = None,
        station: str = "Station 1",
        operator: str = "Operator 1",
        started_at: datetime | str | None = None,
    ) -> dict:
        """Complete an open or started unit; return the OperationOrderComplete.

        The produced serial defaults to the reserved one, else a new
        ``SN-<part number>-<n>``; consumed serials default to a new one per
        attribute of the operation. The build started at ``started_at``, else
        when the unit was started, else a plausible few minutes before.
        """
        key = (external_order_id, operation_id, order_index)
        with self._lock:
            order = self._require_order(key, OPEN, STARTED)
            operation = self._store.operation(operation_id)
            reserved = reserved_serial or order["reservedSerialNumber"]
            produced = produced_serial or reserved or self._serial(_label(operation))
            event = self._completion(
                order,
                operation,
                at=_moment(at),
                started_at=_moment(started_at) if started_at else None,
                produced_serial=produced,
                consumed_serials=consumed_serials,
                reserved_serial=reserved,
                station=station,
                operator=operator,
            )
            self._store.set_order_state(key, COMPLETED)
            self._store.add_completion(event)
        self._publish(COMPLETES_STREAM, event)
        return event

    def complete_wip(
        self,
        external_order_id: str,
        root_operation_id: str,
        order_index: int,
        wip_operation_id: str,
        produced_serial: str | None = None,
        consumed_serials: dict | list | None = None,
        at: datetime | str | None = None,
        station: str = "Station 1",
        operator: str = "Operator 1",
        started_at: datetime | str | None = None,
    ) -> dict:
        """Complete a child operation (work in progress) of an ordered unit.

        The root order keeps its state; the event names the child operation and
        has no produced serial unless one is given. The process started at
        ``started_at``, else when the unit's previous process ended, else when
        the unit started.
        """
        key = (external_order_id, root_operation_id, order_index)
        with self._lock:
            order = self._require_order(key, OPEN, STARTED, COMPLETED)
            operation = self._store.operation(wip_operation_id)
            if operation is None:
                raise ValueError(f"unknown operation {wip_operation_id!r}")
            moment = _moment(at)
            event = self._completion(
                order,
                operation,
                at=moment,
                started_at=self._process_start(order, moment, started_at),
                produced_serial=produced_serial,
                consumed_serials=consumed_serials,
                reserved_serial=order["reservedSerialNumber"],
                station=station,
                operator=operator,
            )
            self._store.add_completion(event)
        self._publish(COMPLETES_STREAM, event)
        return event

    def _require_order(self, key: OrderKey, *states: str) -> dict:
        order = self._store.order(key)
        if order is None:
            raise ValueError(f"unknown order {key}")
        if order["state"] not in states:
            raise ValueError(f"order {key} is {order['state']}, expected {states}")
        return order

    def _completion(
        self,
        order: dict,
        operation: dict,
        *,
        at: datetime,
        produced_serial: str | None,
        consumed_serials: dict | list | None,
        reserved_serial: str | None,
        station: str,
        operator: str,
        started_at: datetime | None = None,
    ) -> dict:
        """The OperationOrderComplete record, with a snapshot of the operation."""
        started_at = started_at or _started_at(order, at)
        return {
            "externalOrderId": order["externalOrderId"],
            "secondaryExternalOrderId": order["secondaryExternalOrderId"],
            "operation": copy.deepcopy(operation),
            "orderIndex": order["orderIndex"],
            "at": format_time(at),
            "operationSummary": {
                "startedAt": format_time(started_at),
                "cycleTime": round((at - started_at).total_seconds() * 1000),
                "consumedSerials": self._consumed(operation, consumed_serials),
            },
            "endState": {
                "producedSerial": produced_serial,
                "at": format_time(at),
                "station": {"name": station},
                "operator": {"name": operator},
            },
            "reservedSerialNumber": reserved_serial,
        }

    def _process_start(
        self, order: dict, at: datetime, given: datetime | str | None
    ) -> datetime | None:
        """A process starts when given, else when the unit's last process ended."""
        if given is not None:
            return _moment(given)
        ends = [
            parse_time(c["at"])
            for c in self._store.completions()
            if c["externalOrderId"] == order["externalOrderId"]
            and c["orderIndex"] == order["orderIndex"]
            and parse_time(c["at"]) <= at
        ]
        return max(ends) if ends else None

    def advance_unit(
        self,
        key: OrderKey,
        work: WorkModel,
        end: datetime,
        now: datetime,
        produced_serial: str | None = None,
    ) -> list[dict]:
        """What the floor has done on one unit by ``now``, on the plan of a unit
        finished at ``end``: it is started, each process whose end has passed is
        completed, and the unit once ``end`` has passed. Returns the new events."""
        order = self._require_order(key, OPEN, STARTED)
        processes = self.processes(key[1])
        steps = work.plan(key, processes or [key[1]], end)
        if order["state"] == OPEN:
            self.start_unit(*key, started_at=min(steps[0].started_at, now))
        done = self._store.completed_operations(key[0], key[2]) if processes else ()
        events = [
            self.complete_wip(
                *key,
                step.process_id,
                at=step.ended_at,
                started_at=step.started_at,
                station=step.station,
                operator=step.operator,
            )
            for step in steps
            if processes and step.process_id not in done and step.ended_at <= now
        ]
        if end <= now:
            last = steps[-1]
            events.append(
                self.complete_unit(
                    *key,
                    produced_serial=produced_serial,
                    at=end,
                    started_at=steps[0].started_at,
                    station=last.station,
                    operator=last.operator,
                )
            )
        return events

    def processes(self, operation_id: str) -> list[str]:
        """The ids of the processes (sub-operations) of an operation, in order."""
        return [
            link["subId"]
            for link in self._store.sub_operations()
            if link["parentId"] == operation_id
        ]

    def _consumed(self, operation: dict, given: dict | list | None) -> list[dict]:
        """Captured component serials: generated for each attribute of the operation
        by default, else from {part number: serial} or a list of Attribute dicts."""
        attributes = operation["consumedSerials"]
        if given is None:
            return [
                {**attr, "value": self._serial(attr["externalId"] or attr["id"])}
                for attr in attributes
            ]
        if isinstance(given, dict):
            given = [
                {"externalId": part, "value": value} for part, value in given.items()
            ]
        ids = {attr["externalId"]: attr["id"] for attr in attributes}
        return [_captured_attribute(item, ids) for item in given]

    def _serial(self, prefix: str) -> str:
        return f"{prefix}-{self._store.next_counter(prefix):05d}"


class AutoBuilder:
    """Plays the shop floor: an order saved ``seconds`` ago is built.

    Half way, the unit is started and each of its processes is reported once its
    time on the compressed clock (``WorkModel.plan``, ending when the unit is due)
    has passed; when due, the last process and the unit complete. A held order
    (``buildAfter``, see ``build_history``) is due then instead.
    """

    def __init__(self, floor: Floor, store: Store, work: WorkModel, seconds: float):
        self._floor, self._store, self._work = floor, store, work
        self._seconds = seconds
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._stopping.clear()
        self._thread = threading.Thread(
            target=self._run, name="pico-sim-auto-build", daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        if self._thread:
            self._stopping.set()
            self._thread.join()
            self._thread = None

    def _run(self) -> None:
        poll = max(0.05, min(0.5, self._seconds / 4))
        while not self._stopping.wait(poll):
            self.build_due()

    def build_due(self) -> None:
        now = utc_now()
        half = timedelta(seconds=self._seconds / 2)
        for order in self._store.orders(states=(OPEN, STARTED)):
            key = order["externalOrderId"], order["operationId"], order["orderIndex"]
            due = parse_time(order["createdAt"]) + 2 * half
            if order["buildAfter"]:
                due = max(due, parse_time(order["buildAfter"]))
            if now < due - half:
                continue
            try:
                self._floor.advance_unit(key, self._work, end=due, now=now)
            except ValueError:
                continue  # cancelled or built by someone else meanwhile


def _label(operation: dict) -> str:
    return f"SN-{operation['externalId'] or operation['id']}"


def _captured_attribute(item: dict, ids_by_part: dict) -> dict:
    """An Attribute with a value; a missing id is the matching attribute's id, or
    the part number itself for a component the operation does not declare."""
    part = item.get("externalId")
    attribute_id = item.get("id") or ids_by_part.get(part, part)
    if not attribute_id:
        raise ValueError(f"consumed serial needs an id or externalId: {item!r}")
    return {"id": attribute_id, "externalId": part, "value": item.get("value")}


def _moment(at: datetime | str | None) -> datetime:
    if at is None:
        return utc_now()
    if isinstance(at, str):
        return parse_time(at)
    return at if at.tzinfo else at.replace(tzinfo=UTC)


def _started_at(order: dict, at: datetime) -> datetime:
    """When the build started: the recorded start, else a plausible 1-4 minutes."""
    if order["startedAt"] and parse_time(order["startedAt"]) <= at:
        return parse_time(order["startedAt"])
    return at - timedelta(seconds=random.uniform(60, 240))

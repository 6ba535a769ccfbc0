"""Turn any webhook body PICO may send into typed events, or say what is wrong.

Accepted: ``{"data": {"<stream>": event}}``, ``{"data": event}``, a bare event, or a
JSON list of any of these. An event with ``externalOrderId`` is a completion; one
with ``id`` and ``name`` is an operation.

Everything stored comes out of here bounded: strings fit an index and PostgreSQL
text (no NUL, no lone surrogate), integers fit their columns, dates are real
dates, and events nest no deeper than ``MAX_DEPTH``.
"""

from dataclasses import dataclass, field
from datetime import UTC, datetime

STREAMS = ("operationOrderCompletesStream", "operationsStream", "subOperationsStream")
MAX_TEXT = 255  # ids, references, serials, names: all indexable
MAX_ITEMS = 500  # consumed serials or codes in one event
MAX_EVENTS = 1000  # events in one body
MAX_DEPTH = 32  # PICO's events nest a few levels; JSON bombs thousands
MAX_INDEX = 2**31 - 1  # order_index is an integer column
MAX_MILLISECONDS = 2**53  # exact in a float


class PayloadError(ValueError):
    """The body holds no acceptable event; ``problems`` lists why."""

    def __init__(self, problems):
        super().__init__("; ".join(problems))
        self.problems = problems


@dataclass(frozen=True)
class ConsumedSerial:
    attribute_id: str
    part_number: str
    serial: str


@dataclass(frozen=True)
class CompletionEvent:
    external_order_id: str
    operation_id: str
    order_index: int
    at: datetime
    started_at: datetime | None = None
    cycle_time_ms: int | None = None
    produced_serial: str | None = None
    reserved_serial: str | None = None
    station: str | None = None
    operator: str | None = None
    consumed_serials: tuple = ()
    raw: dict = field(default_factory=dict, compare=False, hash=False)

    kind = "completion"

    @property
    def key(self):
        """Exactly-once key: PICO's own order key."""
        return f"{self.external_order_id}|{self.operation_id}|{self.order_index}"

    @property
    def finished_serial(self):
        return self.produced_serial or self.reserved_serial


@dataclass(frozen=True)
class OperationEvent:
    pico_id: str
    updated_at: datetime
    raw: dict = field(default_factory=dict, compare=False, hash=False)

    kind = "operation"

    @property
    def key(self):
        return f"{self.pico_id}|{self.updated_at.isoformat()}"


def parse_time(value):
    """RFC 3339 text to a naive UTC datetime (Odoo's storage convention)."""
    if not isinstance(value, str):
        raise ValueError("not a date-time string")
    parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    if parsed.tzinfo is None:
        raise ValueError("date-time without offset")
    return parsed.astimezone(UTC).replace(tzinfo=None)


def format_time(value):
    """A naive UTC datetime to RFC 3339 text."""
    return value.replace(tzinfo=UTC).isoformat().replace("+00:00", "Z")


def parse_events(body):
    """A decoded JSON body as a list of events; PayloadError when any is unusable."""
    events, problems = parse_batch(body)
    if problems:
        raise PayloadError(problems)
    return events


def parse_batch(body):
    """(usable events, problems of the others) of a decoded JSON body.

    A problem names its event's position when the body is a list.
    """
    items = body if isinstance(body, list) else [body]
    if not items:
        return [], ["the body holds no event"]
    if len(items) > MAX_EVENTS:
        return [], [f"the body holds more than {MAX_EVENTS} events"]
    events, problems = [], []
    for position, item in enumerate(items):
        try:
            _check_structure(item)
            events.append(_parse_item(_unwrap(item)))
        except PayloadError as exc:
            where = f"event {position}: " if isinstance(body, list) else ""
            problems.extend(where + p for p in exc.problems)
    return events, problems


def _check_structure(item):
    """Depth and storable strings everywhere, also in fields this module ignores."""
    stack = [(item, 1)]
    while stack:
        value, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise PayloadError([f"the event nests deeper than {MAX_DEPTH} levels"])
        if isinstance(value, dict):
            stack.extend((v, depth + 1) for v in value.values())
            stack.extend((k, depth) for k in value)
        elif isinstance(value, list):
            stack.extend((v, depth + 1) for v in value)
        elif isinstance(value, str):
            problem = _unstorable(value)
            if problem:
                raise PayloadError([f"a string {problem}"])


def _unstorable(text):
    """Why PostgreSQL could not store ``text``, or None."""
    if "\x00" in text:
        return "holds a NUL character"
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return "holds a lone surrogate"
    return None


def _unwrap(item):
    if not isinstance(item, dict):
        raise PayloadError(["an event must be a JSON object"])
    data = item.get("data")
    if isinstance(data, dict) and "externalOrderId" not in item and "id" not in item:
        for stream in STREAMS:
            if isinstance(data.get(stream), dict):
                return data[stream]
        return data
    return item


def _parse_item(event):
    if "externalOrderId" in event:
        return _parse_completion(event)
    if "id" in event and "updatedAt" in event:
        return _parse_operation(event)
    raise PayloadError(["neither a completion (externalOrderId) nor an operation (id)"])


class _Checker:
    """Collects every problem of one event instead of stopping at the first."""

    def __init__(self):
        self.problems = []

    def text(self, value, name, required=False):
        if value is None and not required:
            return None
        if not isinstance(value, str) or (required and not value.strip()):
            self.problems.append(f"{name} must be a non-empty string")
            return None
        problem = _unstorable(value)
        if problem:
            self.problems.append(f"{name} {problem}")
            return None
        if len(value) > MAX_TEXT:
            self.problems.append(f"{name} is longer than {MAX_TEXT} characters")
            return None
        return value

    def integer(self, value, name, required=False, maximum=MAX_INDEX):
        if value is None and not required:
            return None
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            self.problems.append(f"{name} must be a non-negative integer")
            return None
        if value > maximum:
            self.problems.append(f"{name} must be at most {maximum}")
            return None
        return value

    def time(self, value, name, required=False):
        if value is None and not required:
            return None
        try:
            return parse_time(value)
        except (TypeError, ValueError, OverflowError):
            self.problems.append(f"{name} must be an RFC 3339 date-time")
            return None

    def items(self, value, name):
        """A list of at most MAX_ITEMS, or () with a problem."""
        if value is None:
            return ()
        if not isinstance(value, list):
            self.problems.append(f"{name} must be a list")
            return ()
        if len(value) > MAX_ITEMS:
            self.problems.append(f"{name} holds more than {MAX_ITEMS} items")
            return ()
        return value

    def mapping(self, value, name, required=False):
        if value is None and not required:
            return {}
        if not isinstance(value, dict):
            self.problems.append(f"{name} must be an object")
            return {}
        return value

    def done(self):
        if self.problems:
            raise PayloadError(self.problems)


def _parse_completion(event):
    check = _Checker()
    operation = check.mapping(event.get("operation"), "operation", required=True)
    summary = check.mapping(event.get("operationSummary"), "operationSummary")
    end_state = check.mapping(event.get("endState"), "endState")
    station = check.mapping(end_state.get("station"), "endState.station")
    operator = check.mapping(end_state.get("operator"), "endState.operator")
    values = {
        "external_order_id": check.text(
            event.get("externalOrderId"), "externalOrderId", required=True
        ),
        "operation_id": check.text(operation.get("id"), "operation.id", required=True),
        # nullable in PICO's schema; PICO keys an order saved without one as 0
        "order_index": check.integer(event.get("orderIndex"), "orderIndex") or 0,
        "at": check.time(event.get("at"), "at", required=True),
        "started_at": check.time(
            summary.get("startedAt"), "operationSummary.startedAt"
        ),
        "cycle_time_ms": check.integer(
            summary.get("cycleTime"),
            "operationSummary.cycleTime",
            maximum=MAX_MILLISECONDS,
        ),
        "produced_serial": check.text(
            end_state.get("producedSerial"), "endState.producedSerial"
        ),
        "reserved_serial": check.text(
            event.get("reservedSerialNumber"), "reservedSerialNumber"
        ),
        "station": check.text(station.get("name"), "endState.station.name"),
        "operator": check.text(operator.get("name"), "endState.operator.name"),
        "consumed_serials": _consumed_serials(check, summary.get("consumedSerials")),
    }
    check.done()
    return CompletionEvent(raw=event, **values)


def _consumed_serials(check, items):
    serials = []
    items = check.items(items, "operationSummary.consumedSerials")
    for position, item in enumerate(items):
        name = f"operationSummary.consumedSerials[{position}]"
        item = check.mapping(item, name, required=True)
        value = check.text(item.get("value"), f"{name}.value", required=True)
        if value:
            serials.append(
                ConsumedSerial(
                    attribute_id=check.text(item.get("id"), f"{name}.id") or "",
                    part_number=check.text(item.get("externalId"), f"{name}.externalId")
                    or "",
                    serial=value,
                )
            )
    return tuple(serials)


def _parse_operation(event):
    check = _Checker()
    pico_id = check.text(event.get("id"), "id", required=True)
    updated_at = check.time(event.get("updatedAt"), "updatedAt", required=True)
    check.text(event.get("name"), "name", required=True)
    check.text(event.get("externalId"), "externalId")
    check.text(event.get("externalRevision"), "externalRevision")
    for position, code in enumerate(
        check.items(event.get("externalCodes"), "externalCodes")
    ):
        check.text(code, f"externalCodes[{position}]")
    attributes = check.items(event.get("consumedSerials"), "consumedSerials")
    for position, attribute in enumerate(attributes):
        name = f"consumedSerials[{position}]"
        attribute = check.mapping(attribute, name, required=True)
        check.text(attribute.get("id"), f"{name}.id", required=True)
        check.text(attribute.get("externalId"), f"{name}.externalId")
    check.done()
    return OperationEvent(pico_id=pico_id, updated_at=updated_at, raw=event)

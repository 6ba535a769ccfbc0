"""``PicoSimulator``: the public facade tying state, floor, webhooks and HTTP."""

import copy
import threading
from dataclasses import asdict
from datetime import datetime
from typing import Self

from .delivery import RetryPolicy, Webhooks
from .faults import DeliveryFaults, FaultInjector
from .floor import AutoBuilder, Floor
from .history import build_history
from .schema import RequestContext, execute_request
from .seed import Seed, load_seed, merge_operation, normalize_sub_operation
from .server import make_server
from .stats import Stats
from .store import Store
from .times import now_iso
from .work import WorkModel

OPERATIONS_STREAM = "operationsStream"
SUB_OPERATIONS_STREAM = "subOperationsStream"


class PicoSimulator:
    """A PICO MES instance: GraphQL API, webhooks, and a shop floor to drive.

    State lives in SQLite (``db_path``; None keeps it in memory), so a simulator
    restarted on the same file keeps its operations, orders, subscriptions and
    pending deliveries. Seed operations missing from the database are added at
    start-up; operations already there keep their runtime edits.
    """

    def __init__(
        self,
        token: str,
        db_path: str | None = None,
        seed: Seed = None,
        auto_build_seconds: float | None = None,
        background_delivery: bool = True,
        retry_base_seconds: float = 1.0,
        retry_cap_seconds: float = 60.0,
        delivery_timeout: float = 5.0,
        public_url: str | None = None,
        random_seed: int | str | None = None,
    ):
        if not token:
            raise ValueError("a token is required")
        self.token = token
        self.public_url = public_url.rstrip("/") if public_url else None
        self.store = Store(db_path)
        self._seed = load_seed(seed)
        self._add_missing_seed()
        self.webhooks = Webhooks(
            self.store,
            RetryPolicy(retry_base_seconds, retry_cap_seconds),
            delivery_timeout,
        )
        self.floor = Floor(self.store, self.webhooks.publish)
        self.work = WorkModel(random_seed)
        self.faults = FaultInjector()
        self._stats = Stats()
        self._background_delivery = background_delivery
        self._auto_builder = (
            AutoBuilder(self.floor, self.store, self.work, auto_build_seconds)
            if auto_build_seconds
            else None
        )
        self._server = None
        self._server_thread: threading.Thread | None = None

    # -- lifecycle --------------------------------------------------------------

    def start(self, host: str = "127.0.0.1", port: int = 0) -> Self:
        """Serve HTTP on ``host:port`` (0: a free port) and start the workers."""
        self._server = make_server(self, host, port)
        self._server_thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},  # how fast stop() returns
            name="pico-sim-http",
            daemon=True,
        )
        self._server_thread.start()
        if self._background_delivery:
            self.webhooks.start_worker()
        if self._auto_builder:
            self._auto_builder.start()
        return self

    def stop(self) -> None:
        """Stop serving and the workers, and close the database."""
        if self._auto_builder:
            self._auto_builder.stop()
        self.webhooks.stop_worker()
        if self._server:
            self._server.shutdown()
            self._server.server_close()
            self._server_thread.join()
            self._server = None
        self.store.close()

    def __enter__(self) -> Self:
        return self if self._server else self.start()

    def __exit__(self, *exc_info) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        if self.public_url:
            return self.public_url
        if not self._server:
            raise RuntimeError("the simulator is not serving: call start() first")
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    @property
    def url(self) -> str:
        """The GraphQL endpoint (``/graphql`` is answered too)."""
        return f"{self.base_url}/graph/v2"

    # -- GraphQL ----------------------------------------------------------------

    def execute(
        self,
        query: str,
        variables: dict | None = None,
        operation_name: str | None = None,
    ) -> dict:
        """Run a GraphQL request in-process (no HTTP, no faults, not counted)."""
        return execute_request(query, variables, operation_name, RequestContext(self))

    # -- the shop floor ---------------------------------------------------------

    def start_unit(
        self,
        external_order_id: str,
        operation_id: str,
        order_index: int,
        started_at: datetime | str | None = None,
    ) -> dict:
        return self.floor.start_unit(
            external_order_id, operation_id, order_index, started_at
        )

    def cancel_unit(
        self, external_order_id: str, operation_id: str, order_index: int
    ) -> dict:
        """Cancel one open order from the floor side (the web page's Cancel)."""
        return self.floor.cancel_unit(external_order_id, operation_id, order_index)

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
        return self.floor.complete_unit(
            external_order_id,
            operation_id,
            order_index,
            produced_serial=produced_serial,
            consumed_serials=consumed_serials,
            reserved_serial=reserved_serial,
            at=at,
            station=station,
            operator=operator,
            started_at=started_at,
        )

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
        return self.floor.complete_wip(
            external_order_id,
            root_operation_id,
            order_index,
            wip_operation_id,
            produced_serial=produced_serial,
            consumed_serials=consumed_serials,
            at=at,
            station=station,
            operator=operator,
            started_at=started_at,
        )

    def configure_floor(
        self,
        processes: dict | None = None,
        operators: list[str] | None = None,
        slow_share: float | None = None,
    ) -> dict:
        """Typical minutes and stations per process, the operators, the share of
        slow units: what the auto-builder and the history report."""
        return self.work.configure(processes, operators, slow_share)

    def build_history(
        self,
        external_order_ids: list[str],
        hours: float = 24,
        in_progress: int = 0,
    ) -> dict:
        """Build these orders' open units over the past ``hours`` (see history)."""
        return build_history(self, external_order_ids, hours, in_progress)

    def orders(self, external_order_id: str | None = None) -> list[dict]:
        return self.store.orders(external_order_id)

    def completions(self) -> list[dict]:
        return self.store.completions()

    # -- the catalogue ----------------------------------------------------------

    def operations(self) -> list[dict]:
        return copy.deepcopy(self.store.operations())

    def upsert_operation(self, changes: dict) -> dict:
        """Create an operation or apply a partial edit; emits operationsStream."""
        if not changes.get("id"):
            raise ValueError("an operation needs an id")
        operation = merge_operation(self.store.operation(str(changes["id"])), changes)
        self.store.put_operations([operation])
        self.webhooks.publish(OPERATIONS_STREAM, operation)
        return copy.deepcopy(operation)

    def archive_operation(self, operation_id: str) -> dict:
        if self.store.operation(operation_id) is None:
            raise ValueError(f"unknown operation {operation_id!r}")
        now = now_iso()
        return self.upsert_operation(
            {"id": operation_id, "archivedAt": now, "updatedAt": now}
        )

    def upsert_sub_operation(
        self, parent_id: str, sub_id: str, sub_group: str | None = None
    ) -> dict:
        """Link a child operation to its parent; emits subOperationsStream."""
        for operation_id in (parent_id, sub_id):
            if self.store.operation(operation_id) is None:
                raise ValueError(f"unknown operation {operation_id!r}")
        link = normalize_sub_operation(
            {"parentId": parent_id, "subId": sub_id, "subGroup": sub_group}
        )
        self.store.put_sub_operation(link)
        self.webhooks.publish(SUB_OPERATIONS_STREAM, link)
        return link

    # -- webhooks ---------------------------------------------------------------

    def subscriptions(self) -> list[dict]:
        return self.store.subscriptions()

    def deliver_pending(self, now: bool = False) -> list[tuple[int | None, dict]]:
        """Deliver the due webhook events from the calling thread; ``now=True``
        delivers every pending one, ignoring back-off. Returns (status, body) per
        POST, status None when the connection failed."""
        return self.webhooks.deliver_pending(force=now)

    def deliveries(self, limit: int | None = None) -> list[dict]:
        return self.store.deliveries(limit)

    # -- faults and statistics --------------------------------------------------

    def set_faults(
        self,
        latency: float = 0.0,
        http_status: int | None = None,
        graphql_error: str | None = None,
        drop_connection: bool = False,
        count: int | None = None,
        refuse_alias: str | None = None,
        answer: str | None = None,
    ) -> dict:
        """Disturb the next ``count`` GraphQL requests (None: until cleared)."""
        self.faults.set(
            latency=latency,
            http_status=http_status,
            graphql_error=graphql_error,
            drop_connection=drop_connection,
            count=count,
            refuse_alias=refuse_alias,
            answer=answer,
        )
        return self.faults.current()

    def clear_faults(self) -> None:
        self.faults.clear()

    def set_delivery_faults(
        self, duplicate: bool = False, reorder: bool = False
    ) -> dict:
        self.webhooks.faults = DeliveryFaults(duplicate=duplicate, reorder=reorder)
        return asdict(self.webhooks.faults)

    @property
    def request_log(self) -> list[dict]:
        """The most recent GraphQL HTTP requests, oldest first."""
        return self._stats.log()

    def record_request(self, status: int | None, fields, duration: float, **details):
        self._stats.record(status, fields, duration, **details)

    def stats(self) -> dict:
        return {
            **self._stats.snapshot(),
            "orders": self.store.state_counts("orders"),
            "deliveries": self.store.state_counts("deliveries"),
        }

    def reset(self, operations: bool = False, subscriptions: bool = False) -> None:
        """Clear orders, completions, deliveries and statistics; with
        ``operations`` also restore the catalogue to the seed."""
        self.store.reset(operations=operations, subscriptions=subscriptions)
        self._stats.reset()
        if operations:
            self._add_missing_seed()

    def _add_missing_seed(self) -> None:
        operations, links = self._seed
        self.store.put_operations(
            [op for op in operations if self.store.operation(op["id"]) is None]
        )
        known = {
            (link["parentId"], link["subId"]) for link in self.store.sub_operations()
        }
        for link in links:
            if (link["parentId"], link["subId"]) not in known:
                self.store.put_sub_operation(link)

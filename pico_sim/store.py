"""SQLite persistence of the simulator's state.

One connection guarded by a lock serves every thread (HTTP handlers, delivery and
auto-build workers), which also makes an in-memory database shareable. Operations
are additionally cached in memory, in insertion order, because the ``operations``
query must answer 10,000 of them quickly.
"""

import json
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from .times import now_iso

_SCHEMA = """
CREATE TABLE IF NOT EXISTS operations (
    id TEXT PRIMARY KEY,
    data TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS sub_operations (
    parent_id TEXT NOT NULL,
    sub_id TEXT NOT NULL,
    data TEXT NOT NULL,
    PRIMARY KEY (parent_id, sub_id)
);
CREATE TABLE IF NOT EXISTS orders (
    external_order_id TEXT NOT NULL,
    operation_id TEXT NOT NULL,
    order_index INTEGER NOT NULL,
    state TEXT NOT NULL,
    secondary_external_order_id TEXT,
    reserved_serial_number TEXT,
    optional_operation_ids TEXT NOT NULL DEFAULT '[]',
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    started_at TEXT,
    build_after TEXT,
    PRIMARY KEY (external_order_id, operation_id, order_index)
);
CREATE TABLE IF NOT EXISTS completions (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    data TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS subscriptions (
    subscription_id TEXT PRIMARY KEY,
    stream_field TEXT NOT NULL,
    response_fragment TEXT NOT NULL,
    webhook_url TEXT NOT NULL,
    webhook_headers TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS deliveries (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    subscription_id TEXT NOT NULL,
    body TEXT NOT NULL,
    state TEXT NOT NULL DEFAULT 'pending',
    attempts INTEGER NOT NULL DEFAULT 0,
    last_status INTEGER,
    last_error TEXT,
    next_attempt_at REAL NOT NULL,
    created_at TEXT NOT NULL,
    delivered_at TEXT
);
CREATE TABLE IF NOT EXISTS counters (
    name TEXT PRIMARY KEY,
    value INTEGER NOT NULL
);
"""

OPEN, STARTED, COMPLETED, CANCELLED = "open", "started", "completed", "cancelled"
OrderKey = tuple[str, str, int]


class Store:
    def __init__(self, db_path: str | None = None):
        self._lock = threading.RLock()
        self._conn = sqlite3.connect(db_path or ":memory:", check_same_thread=False)
        self._conn.row_factory = sqlite3.Row
        self._conn.executescript(_SCHEMA)
        self._add_missing_columns()
        self._operations = {
            row["id"]: json.loads(row["data"])
            for row in self._conn.execute(
                "SELECT id, data FROM operations ORDER BY rowid"
            )
        }

    def _add_missing_columns(self) -> None:
        """A state file written by an older simulator lacks the newer columns."""
        columns = {
            row["name"] for row in self._conn.execute("PRAGMA table_info(orders)")
        }
        if "build_after" not in columns:
            with self._conn:
                self._conn.execute("ALTER TABLE orders ADD COLUMN build_after TEXT")

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        with self._lock, self._conn:
            yield self._conn

    # -- operations -------------------------------------------------------------

    def operations(self) -> list[dict]:
        with self._lock:
            return list(self._operations.values())

    def operation(self, operation_id: str) -> dict | None:
        with self._lock:
            return self._operations.get(operation_id)

    def put_operations(self, operations: list[dict]) -> None:
        with self._transaction() as conn:
            conn.executemany(
                "INSERT INTO operations (id, data) VALUES (?, ?)"
                " ON CONFLICT (id) DO UPDATE SET data = excluded.data",
                [(op["id"], json.dumps(op)) for op in operations],
            )
            self._operations.update((op["id"], op) for op in operations)

    def sub_operations(self) -> list[dict]:
        with self._lock:
            rows = self._conn.execute("SELECT data FROM sub_operations ORDER BY rowid")
            return [json.loads(row["data"]) for row in rows]

    def put_sub_operation(self, link: dict) -> None:
        with self._transaction() as conn:
            conn.execute(
                "INSERT INTO sub_operations (parent_id, sub_id, data) VALUES (?, ?, ?)"
                " ON CONFLICT (parent_id, sub_id) DO UPDATE SET data = excluded.data",
                (link["parentId"], link["subId"], json.dumps(link)),
            )

    # -- orders -----------------------------------------------------------------

    def save_order(
        self,
        key: OrderKey,
        *,
        secondary_external_order_id: str | None = None,
        reserved_serial_number: str | None = None,
        optional_operation_ids: list[str] | None = None,
    ) -> str:
        """Insert the order, or update the optional fields given if it exists.

        Returns "created" or "updated". A re-save never changes the state, so a
        cancelled order stays cancelled: re-opening it would let a retried request
        resurrect an order the ERP meant to cancel.
        """
        columns = {
            "secondary_external_order_id": secondary_external_order_id,
            "reserved_serial_number": reserved_serial_number,
            "optional_operation_ids": None
            if optional_operation_ids is None
            else json.dumps(optional_operation_ids),
        }
        now = now_iso()
        with self._transaction() as conn:
            exists = self._order_row(key) is not None
            if not exists:
                conn.execute(
                    "INSERT INTO orders (external_order_id, operation_id, order_index,"
                    " state, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)",
                    (*key, OPEN, now, now),
                )
            given = {name: val for name, val in columns.items() if val is not None}
            self._set_columns(key, updated_at=now, **given)
        return "updated" if exists else "created"

    def order(self, key: OrderKey) -> dict | None:
        with self._lock:
            row = self._order_row(key)
            return _order_dict(row) if row else None

    def orders(
        self, external_order_id: str | None = None, states: tuple[str, ...] = ()
    ) -> list[dict]:
        query, params = "SELECT * FROM orders WHERE 1 = 1", []
        if external_order_id is not None:
            query += " AND external_order_id = ?"
            params.append(external_order_id)
        if states:
            query += f" AND state IN ({', '.join('?' * len(states))})"
            params.extend(states)
        with self._lock:
            rows = self._conn.execute(query + " ORDER BY rowid", params)
            return [_order_dict(row) for row in rows]

    def set_order_state(self, key: OrderKey, state: str, **times: str) -> None:
        with self._transaction():
            self._set_columns(key, state=state, updated_at=now_iso(), **times)

    def cancel_open_orders(
        self, external_order_id: str, operation_id: str, order_index: int | None
    ) -> int:
        """Cancel open orders of one index (or all indexes when None)."""
        query = (
            "UPDATE orders SET state = ?, updated_at = ? WHERE state = ?"
            " AND external_order_id = ? AND operation_id = ?"
        )
        params = [CANCELLED, now_iso(), OPEN, external_order_id, operation_id]
        if order_index is not None:
            query += " AND order_index = ?"
            params.append(order_index)
        with self._transaction() as conn:
            return conn.execute(query, params).rowcount

    def hold_order(self, key: OrderKey, until: str) -> None:
        """The auto-builder leaves the order alone until then."""
        with self._transaction():
            self._set_columns(key, build_after=until)

    def _order_row(self, key: OrderKey) -> sqlite3.Row | None:
        return self._conn.execute(
            "SELECT * FROM orders WHERE external_order_id = ? AND operation_id = ?"
            " AND order_index = ?",
            key,
        ).fetchone()

    def _set_columns(self, key: OrderKey, **columns) -> None:
        assignments = ", ".join(f"{column} = ?" for column in columns)
        self._conn.execute(
            f"UPDATE orders SET {assignments} WHERE external_order_id = ?"  # noqa: S608
            " AND operation_id = ? AND order_index = ?",
            (*columns.values(), *key),
        )

    # -- completions ------------------------------------------------------------

    def add_completion(self, event: dict) -> None:
        with self._transaction() as conn:
            conn.execute(
                "INSERT INTO completions (data) VALUES (?)", (json.dumps(event),)
            )

    def completed_operations(
        self, external_order_id: str, order_index: int
    ) -> set[str]:
        """The operation ids completed so far on one unit (processes and root)."""
        with self._lock:
            rows = self._conn.execute(
                "SELECT json_extract(data, '$.operation.id') FROM completions"
                " WHERE json_extract(data, '$.externalOrderId') = ?"
                " AND json_extract(data, '$.orderIndex') = ?",
                (external_order_id, order_index),
            )
            return {row[0] for row in rows}

    def completions(self) -> list[dict]:
        with self._lock:
            rows = self._conn.execute("SELECT data FROM completions ORDER BY id")
            return [json.loads(row["data"]) for row in rows]

    # -- webhook subscriptions --------------------------------------------------

    def put_subscription(self, subscription: dict) -> None:
        with self._transaction() as conn:
            conn.execute(
                "INSERT OR REPLACE INTO subscriptions (subscription_id, stream_field,"
                " response_fragment, webhook_url, webhook_headers, updated_at)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                (
                    subscription["subscriptionID"],
                    subscription["streamField"],
                    subscription["responseFragment"],
                    subscription["webhookUrl"],
                    json.dumps(subscription["webhookHeaders"]),
                    now_iso(),
                ),
            )

    def delete_subscription(self, subscription_id: str) -> bool:
        with self._transaction() as conn:
            return bool(
                conn.execute(
                    "DELETE FROM subscriptions WHERE subscription_id = ?",
                    (subscription_id,),
                ).rowcount
            )

    def subscriptions(self, stream_field: str | None = None) -> list[dict]:
        query, params = "SELECT * FROM subscriptions", ()
        if stream_field:
            query, params = query + " WHERE stream_field = ?", (stream_field,)
        with self._lock:
            rows = self._conn.execute(query + " ORDER BY rowid", params)
            return [_subscription_dict(row) for row in rows]

    def subscription(self, subscription_id: str) -> dict | None:
        with self._lock:
            row = self._conn.execute(
                "SELECT * FROM subscriptions WHERE subscription_id = ?",
                (subscription_id,),
            ).fetchone()
            return _subscription_dict(row) if row else None

    # -- deliveries -------------------------------------------------------------

    def add_delivery(self, subscription_id: str, body: dict, due_at: float) -> None:
        with self._transaction() as conn:
            conn.execute(
                "INSERT INTO deliveries (subscription_id, body, next_attempt_at,"
                " created_at) VALUES (?, ?, ?, ?)",
                (subscription_id, json.dumps(body), due_at, now_iso()),
            )

    def pending_deliveries(
        self, due_before: float | None = None, newest_first: bool = False
    ) -> list[dict]:
        """Pending deliveries, all of them or those due before a Unix time."""
        query, params = "SELECT * FROM deliveries WHERE state = 'pending'", []
        if due_before is not None:
            query += " AND next_attempt_at <= ?"
            params.append(due_before)
        query += f" ORDER BY id {'DESC' if newest_first else 'ASC'}"
        with self._lock:
            return [_delivery_dict(row) for row in self._conn.execute(query, params)]

    def next_delivery_due(self) -> float | None:
        with self._lock:
            row = self._conn.execute(
                "SELECT MIN(next_attempt_at) FROM deliveries WHERE state = 'pending'"
            ).fetchone()
            return row[0]

    def record_attempt(self, delivery_id: int, outcome: dict) -> None:
        """Store one attempt's outcome: state, last_status, last_error and either
        delivered_at or next_attempt_at."""
        assignments = ", ".join(f"{column} = ?" for column in outcome)
        with self._transaction() as conn:
            conn.execute(
                f"UPDATE deliveries SET attempts = attempts + 1, {assignments}"  # noqa: S608
                " WHERE id = ?",
                (*outcome.values(), delivery_id),
            )

    def deliveries(self, limit: int | None = None) -> list[dict]:
        """All deliveries, oldest first, or only the most recent ``limit``."""
        query = "SELECT * FROM deliveries ORDER BY id DESC LIMIT ?"
        with self._lock:
            rows = self._conn.execute(query, (limit or -1,)).fetchall()
            return [_delivery_dict(row) for row in reversed(rows)]

    # -- misc -------------------------------------------------------------------

    def next_counter(self, name: str) -> int:
        with self._transaction() as conn:
            return conn.execute(
                "INSERT INTO counters (name, value) VALUES (?, 1) ON CONFLICT (name)"
                " DO UPDATE SET value = value + 1 RETURNING value",
                (name,),
            ).fetchone()[0]

    def state_counts(self, table: str) -> dict[str, int]:
        """Rows per state of ``orders`` or ``deliveries``."""
        if table not in ("orders", "deliveries"):
            raise ValueError(f"no states in {table}")
        with self._lock:
            rows = self._conn.execute(
                f"SELECT state, COUNT(*) FROM {table} GROUP BY state"  # noqa: S608
                " ORDER BY state"
            )
            return dict(rows.fetchall())

    def reset(self, operations: bool = False, subscriptions: bool = False) -> None:
        """Clear the build history. Serial counters survive, so serials handed out
        before a reset are never handed out again."""
        tables = ["orders", "completions", "deliveries"]
        tables += ["operations", "sub_operations"] if operations else []
        tables += ["subscriptions"] if subscriptions else []
        with self._transaction() as conn:
            for table in tables:
                conn.execute(f"DELETE FROM {table}")  # noqa: S608 -- our table names
            if operations:
                self._operations.clear()


def _order_dict(row: sqlite3.Row) -> dict:
    return {
        "externalOrderId": row["external_order_id"],
        "operationId": row["operation_id"],
        "orderIndex": row["order_index"],
        "state": row["state"],
        "secondaryExternalOrderId": row["secondary_external_order_id"],
        "reservedSerialNumber": row["reserved_serial_number"],
        "selectOptionalOperationIds": json.loads(row["optional_operation_ids"]),
        "createdAt": row["created_at"],
        "updatedAt": row["updated_at"],
        "startedAt": row["started_at"],
        "buildAfter": row["build_after"],
    }


def _subscription_dict(row: sqlite3.Row) -> dict:
    return {
        "subscriptionID": row["subscription_id"],
        "streamField": row["stream_field"],
        "responseFragment": row["response_fragment"],
        "webhookUrl": row["webhook_url"],
        "webhookHeaders": json.loads(row["webhook_headers"]),
        "updatedAt": row["updated_at"],
    }


def _delivery_dict(row: sqlite3.Row) -> dict:
    return {
        "id": row["id"],
        "subscriptionID": row["subscription_id"],
        "body": json.loads(row["body"]),
        "state": row["state"],
        "attempts": row["attempts"],
        "lastStatus": row["last_status"],
        "lastError": row["last_error"],
        "nextAttemptAt": row["next_attempt_at"],
        "createdAt": row["created_at"],
        "deliveredAt": row["delivered_at"],
    }

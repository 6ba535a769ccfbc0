"""PICO's Work Instructions API (alpha): processCreate, productCreate, stationCreate.

Processes and products are operations (PICO's single representation of anything
that can be ordered), so a product created here appears in ``operations``, its
processes in ``subOperations``, and it can be ordered and built like any other.
A create is an upsert, as PICO's: a second call with the same id overwrites.

The definitions themselves (steps, dependencies, stations) are kept in their own
table for inspection (``definition()``). Where PICO's documentation is silent
this module takes the harsher reading: ids must match ``^[a-z0-9_]{3,50}$``
exactly (lowercase), every process a product names must exist, dependencies must
name processes of the same product and must not form a cycle.
"""

import json
import re

ID_RULE = re.compile(r"^[a-z0-9_]{3,50}$")
PROCESS_TEMPLATE = "tpl-process"
PRODUCT_TEMPLATE = "tpl-product"

_TABLE = """
CREATE TABLE IF NOT EXISTS work_instructions (
    kind TEXT NOT NULL,
    id TEXT NOT NULL,
    data TEXT NOT NULL,
    PRIMARY KEY (kind, id)
)
"""


def check_id(value, what: str) -> str:
    if not isinstance(value, str) or not ID_RULE.match(value):
        raise ValueError(
            f"{what} id {value!r} must match ^[a-z0-9_]{{3,50}}$ "
            "(lowercase letters, digits and _, 3 to 50 characters)"
        )
    return value


def _check_name(value, what: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"{what} needs a non-empty name")
    return value


def _put(sim, kind: str, definition: dict) -> None:
    store = sim.store
    with store._transaction() as conn:  # noqa: SLF001 -- the simulator's own store
        conn.execute(_TABLE)
        conn.execute(
            "INSERT INTO work_instructions (kind, id, data) VALUES (?, ?, ?)"
            " ON CONFLICT (kind, id) DO UPDATE SET data = excluded.data",
            (kind, definition["id"], json.dumps(definition)),
        )


def definition(sim, kind: str, definition_id: str) -> dict | None:
    """The last definition saved for a process, product or station, or None."""
    store = sim.store
    with store._transaction() as conn:  # noqa: SLF001
        conn.execute(_TABLE)
        row = conn.execute(
            "SELECT data FROM work_instructions WHERE kind = ? AND id = ?",
            (kind, definition_id),
        ).fetchone()
    return json.loads(row[0]) if row else None


def _kind_of(sim, operation_id: str) -> str | None:
    operation = sim.store.operation(operation_id)
    if operation is None:
        return None
    return "process" if operation["templateID"] == PROCESS_TEMPLATE else "product"


def create_process(sim, input: dict) -> bool:  # noqa: A002 -- GraphQL argument name
    process = input["process"]
    check_id(process["id"], "process")
    _check_name(process["name"], "a process")
    for step in process["steps"]:
        check_id(step["id"], "step")
        _check_name(step["name"], "a step")
        for action in step.get("actions") or []:
            check_id(action["id"], "action")
    if _kind_of(sim, process["id"]) == "product":
        raise ValueError(f"{process['id']!r} is a product, not a process")
    _put(sim, "process", process)
    sim.upsert_operation(
        {
            "id": process["id"],
            "name": process["name"],
            "templateID": PROCESS_TEMPLATE,
        }
    )
    return True


def create_product(sim, input: dict) -> bool:  # noqa: A002
    product = input["product"]
    check_id(product["id"], "product")
    _check_name(product["name"], "a product")
    if _kind_of(sim, product["id"]) == "process":
        raise ValueError(f"{product['id']!r} is a process, not a product")
    processes = product["processes"]
    if not processes:
        raise ValueError("a product needs at least one process")
    ids = [check_id(p["processId"], "process") for p in processes]
    if len(set(ids)) != len(ids):
        raise ValueError("a product names each process once")
    for process_id in ids:
        if _kind_of(sim, process_id) != "process":
            raise ValueError(f"unknown process {process_id!r}: create it first")
    _check_dependencies(processes, set(ids))
    _put(sim, "product", product)
    part_number = product.get("partNumber")
    sim.upsert_operation(
        {
            "id": product["id"],
            "name": product["name"],
            "externalId": part_number,
            "externalRevision": product.get("revision"),
            "templateID": PRODUCT_TEMPLATE,
        }
    )
    for process_id in ids:
        sim.upsert_sub_operation(product["id"], process_id)
    return True


def _check_dependencies(processes: list[dict], ids: set[str]) -> None:
    waits_for = {p["processId"]: set(p.get("dependsOn") or []) for p in processes}
    for process_id, dependencies in waits_for.items():
        unknown = dependencies - ids
        if unknown:
            raise ValueError(
                f"process {process_id!r} depends on {sorted(unknown)}, "
                "which are not processes of this product"
            )
    done: set[str] = set()
    while len(done) < len(waits_for):
        ready = {p for p, deps in waits_for.items() if p not in done and deps <= done}
        if not ready:
            raise ValueError("the process dependencies form a cycle")
        done |= ready


def create_station(sim, input: dict) -> bool:  # noqa: A002
    station = input["station"]
    check_id(station["id"], "station")
    _check_name(station["name"], "a station")
    _put(sim, "station", station)
    return True


MUTATION_RESOLVERS = {
    "processCreate": create_process,
    "productCreate": create_product,
    "stationCreate": create_station,
}

"""JSON control API (``/control/...``) to drive the simulator from another process.

Arguments are the library's, in snake_case or camelCase (``order_index`` or
``orderIndex``); operation bodies are Operation objects in the schema's names.
A bad argument answers HTTP 400 with ``{"error": "..."}``.
"""

import re
from collections.abc import Callable
from dataclasses import dataclass

_CAMEL_HUMP = re.compile(r"(?<!^)(?=[A-Z])")
_ROUTES: list[tuple[str, re.Pattern, Callable]] = []


def snake_case_keys(arguments: dict) -> dict:
    return {
        _CAMEL_HUMP.sub("_", name).lower(): value for name, value in arguments.items()
    }


@dataclass
class ControlRequest:
    query: dict
    body: dict
    path_params: dict

    @property
    def arguments(self) -> dict:
        return snake_case_keys(self.body)


def handle(sim, method: str, path: str, query: dict, body) -> tuple[int, dict]:
    """Answer one control request: (HTTP status, JSON payload)."""
    if not isinstance(body, dict):
        return 400, {"error": "the body must be a JSON object"}
    matches = [(m, p.fullmatch(path), action) for m, p, action in _ROUTES]
    matches = [(m, match, action) for m, match, action in matches if match]
    if not matches:
        return 404, {"error": f"no control route {path}"}
    for route_method, match, action in matches:
        if route_method == method:
            try:
                return 200, action(sim, ControlRequest(query, body, match.groupdict()))
            except (TypeError, ValueError, KeyError) as error:
                return 400, {"error": str(error)}
    return 405, {"error": f"{path} does not answer {method}"}


def route(method: str, pattern: str) -> Callable:
    def register(action: Callable) -> Callable:
        _ROUTES.append((method, re.compile(pattern), action))
        return action

    return register


# -- orders and the floor ---------------------------------------------------------


@route("GET", "/control/orders")
def _orders(sim, request):
    query = request.query
    return {
        "orders": sim.orders(
            query.get("externalOrderId") or query.get("external_order_id")
        )
    }


@route("POST", "/control/start")
def _start(sim, request):
    return {"order": sim.start_unit(**request.arguments)}


@route("POST", "/control/cancel")
def _cancel(sim, request):
    return {"order": sim.cancel_unit(**request.arguments)}


@route("POST", "/control/complete")
def _complete(sim, request):
    return {"event": sim.complete_unit(**request.arguments)}


@route("POST", "/control/complete_wip")
def _complete_wip(sim, request):
    """Takes the ordered operation as ``root_operation_id`` or ``operation_id``."""
    arguments = request.arguments
    if "operation_id" in arguments:
        arguments["root_operation_id"] = arguments.pop("operation_id")
    return {"event": sim.complete_wip(**arguments)}


@route("GET", "/control/floor")
def _floor(sim, _request):
    return {"floor": sim.work.describe()}


@route("POST", "/control/floor")
def _configure_floor(sim, request):
    """``{"processes": {id: {"minutes", "stations"}}, "operators", "slowShare"}``;
    process ids are kept as given (not snake-cased)."""
    arguments = request.arguments
    return {"floor": sim.configure_floor(**arguments)}


@route("POST", "/control/history")
def _history(sim, request):
    """``{"externalOrderIds": [...], "hours": 24, "inProgress": 2}``"""
    return {"history": sim.build_history(**request.arguments)}


@route("GET", "/control/completions")
def _completions(sim, _request):
    return {"completions": sim.completions()}


# -- catalogue --------------------------------------------------------------------


@route("POST", "/control/operations")
def _upsert_operation(sim, request):
    return {"operation": sim.upsert_operation(request.body)}


@route("POST", r"/control/operations/(?P<operation_id>[^/]+)/archive")
def _archive_operation(sim, request):
    return {"operation": sim.archive_operation(request.path_params["operation_id"])}


@route("POST", "/control/sub_operations")
def _upsert_sub_operation(sim, request):
    return {"subOperation": sim.upsert_sub_operation(**request.arguments)}


# -- webhooks ---------------------------------------------------------------------


@route("POST", "/control/deliver")
def _deliver(sim, request):
    results = sim.deliver_pending(now=bool(request.arguments.get("force")))
    return {"results": [{"status": status, "body": body} for status, body in results]}


@route("GET", "/control/deliveries")
def _deliveries(sim, request):
    limit = request.query.get("limit")
    return {"deliveries": sim.deliveries(int(limit) if limit else None)}


@route("GET", "/control/subscriptions")
def _subscriptions(sim, _request):
    return {"subscriptions": sim.subscriptions()}


# -- faults, statistics, reset ----------------------------------------------------


@route("GET", "/control/faults")
def _faults(sim, _request):
    return {"faults": sim.faults.current()}


@route("POST", "/control/faults")
def _set_faults(sim, request):
    """Replace the request faults; an empty body clears them."""
    return {"faults": sim.set_faults(**request.arguments)}


@route("POST", "/control/delivery_faults")
def _set_delivery_faults(sim, request):
    return {"deliveryFaults": sim.set_delivery_faults(**request.arguments)}


@route("GET", "/control/stats")
def _stats(sim, _request):
    return sim.stats()


@route("GET", "/control/request_log")
def _request_log(sim, _request):
    return {"requests": sim.request_log}


@route("POST", "/control/reset")
def _reset(sim, request):
    """Body ``{"operations": true}`` / ``{"subscriptions": true}`` resets those too."""
    sim.reset(**request.arguments)
    return {"reset": True}

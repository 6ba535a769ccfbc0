"""Clients for the live demo: Odoo over JSON-RPC, the simulator's control API, and
the demo's processes, restartable per test and always stopped."""

import os
import time
from pathlib import Path

import requests

from demo.stack import DemoConfig, odoo_server, simulator

REPO = Path(__file__).resolve().parents[2]
# Overridable, so that two runs on one machine use their own database and ports.
E2E_DB = os.environ.get("PICO_E2E_DB", "pico_e2e")
ODOO_PORT = int(os.environ.get("PICO_E2E_ODOO_PORT", "8079"))
SIM_PORT = int(os.environ.get("PICO_E2E_SIM_PORT", "8078"))
AUTO_BUILD = 1  # seconds PICO takes to build a unit in these tests
RPC_TIMEOUT = 120  # seconds for one request: a confirm or a cron run on 2 cores


def demo_command(*options: str) -> list[str]:
    """``bin/demo`` for the throwaway database and the tests' ports."""
    ports = ["--odoo-port", str(ODOO_PORT), "--sim-port", str(SIM_PORT)]
    build = ["--auto-build", str(AUTO_BUILD)]
    return [str(REPO / "bin" / "demo"), "--db", E2E_DB, *ports, *build, *options]


class OdooRpcError(Exception):
    pass


class OdooRpc:
    """``execute_kw`` over ``/jsonrpc`` as a user (admin by default)."""

    def __init__(self, url: str, db: str, login="admin", password="admin"):
        self.url, self.db, self.password = f"{url}/jsonrpc", db, password
        self.uid = self._rpc("common", "login", db, login, password)
        if not self.uid:
            raise OdooRpcError(f"{login} cannot log in to {db}")

    def _rpc(self, service: str, method: str, *args):
        payload = {"service": service, "method": method, "args": args}
        body = {"jsonrpc": "2.0", "method": "call", "params": payload}
        response = requests.post(self.url, json=body, timeout=RPC_TIMEOUT)
        response.raise_for_status()
        answer = response.json()
        if "error" in answer:
            error = answer["error"].get("data", {}).get("message") or answer["error"]
            raise OdooRpcError(error)
        return answer["result"]

    def call(self, model: str, method: str, *args, **kwargs):
        return self._rpc(
            "object", "execute_kw", self.db, self.uid, self.password,
            model, method, list(args), kwargs,
        )  # fmt: skip

    def search_read(self, model: str, domain: list, fields: list) -> list[dict]:
        return self.call(model, "search_read", domain, fields=fields)

    def ref(self, xmlid: str) -> int:
        module, name = xmlid.split(".")
        (data,) = self.search_read(
            "ir.model.data",
            [("module", "=", module), ("name", "=", name)],
            ["res_id"],
        )
        return data["res_id"]


class PicoControl:
    """The simulator's control API (``/control/...``)."""

    def __init__(self, url: str, token: str):
        self.url = url
        self.session = requests.Session()
        self.session.headers["x-pico-api-org"] = token

    def _answer(self, response: requests.Response) -> dict:
        assert response.status_code == 200, response.text
        return response.json()

    def get(self, path: str, **query) -> dict:
        return self._answer(
            self.session.get(f"{self.url}{path}", params=query, timeout=30)
        )

    def post(self, path: str, **body) -> dict:
        return self._answer(
            self.session.post(f"{self.url}{path}", json=body, timeout=30)
        )

    def orders(self, order_ref: str) -> list[dict]:
        return self.get("/control/orders", externalOrderId=order_ref)["orders"]

    def complete(self, order_ref: str, operation_id: str, order_index: int) -> dict:
        return self.post(
            "/control/complete",
            externalOrderId=order_ref,
            operationId=operation_id,
            orderIndex=order_index,
        )["event"]

    def completion_deliveries(self, order_ref: str) -> list[dict]:
        """Webhook deliveries of the completions of one order, oldest first."""
        return [
            delivery
            for delivery in self.get("/control/deliveries")["deliveries"]
            if completion_of(delivery["body"]).get("externalOrderId") == order_ref
        ]


def completion_of(webhook_body: dict) -> dict:
    """The event inside a completion webhook's ``{"data": {stream: event}}``."""
    return (webhook_body.get("data") or {}).get("operationOrderCompletesStream") or {}


class DemoProcesses:
    """The demo's simulator and Odoo, started as each test needs them.

    The simulator is restarted when a test wants it in another mode: building
    units by itself (``auto_build`` seconds) or leaving them to the test; its
    state survives the restart.
    """

    def __init__(self, config: DemoConfig):
        self.config = config
        self.odoo = odoo_server(config)
        self.pico = None
        self.pico_mode = None

    def use_simulator(self, auto_build: float, retry_base: float | None = None):
        mode = (auto_build, retry_base)
        if self.pico and self.pico.running and self.pico_mode == mode:
            return
        if self.pico:
            self.pico.stop()
        self.pico = simulator(self.config, auto_build, retry_base).start()
        self.pico_mode = mode

    def start_odoo(self) -> None:
        if not self.odoo.running:
            self.odoo.start()

    def stop(self) -> None:
        self.odoo.stop()
        if self.pico:
            self.pico.stop()


def wait_until(condition, timeout: float, what: str, interval: float = 0.5):
    """Poll ``condition()`` until it returns something true; return that."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {timeout:.0f} s: {what}")
        time.sleep(interval)

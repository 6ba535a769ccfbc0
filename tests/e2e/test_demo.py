"""End to end: the demo's Odoo and PICO simulator, live, talking over HTTP.

The database pico_e2e is set up by ``bin/demo --reset --no-serve`` (conftest);
Odoo runs threaded (workers 0) with its crons, as in the demo. Each test drives
Odoo over JSON-RPC as admin and the simulator through its control API.
"""

import copy
import json
import signal
import subprocess
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from demo.stack import answers, port_in_use

from .helpers import (
    ODOO_PORT,
    RPC_TIMEOUT,
    SIM_PORT,
    OdooRpc,
    completion_of,
    demo_command,
    wait_until,
)

pytest.importorskip("odoo", reason="the demo needs Odoo 18 importable")
from demo.data import BOMS, DEMO_ORIGIN

pytestmark = pytest.mark.e2e

BUILD_TIMEOUT = 90  # seconds for PICO to build a small order and Odoo to close it
ORDER_TIMEOUT = 60  # seconds for Odoo's dispatcher to order confirmed units
DEMO_START_TIMEOUT = 300
LAMP, SENSOR = "PICO-LAMP", "PICO-SENSOR"
SENSOR_OPERATION = "op-sensor-kit"


# -- reading Odoo -----------------------------------------------------------------


def on_hand(odoo, codes) -> dict[str, float]:
    products = odoo.search_read(
        "product.product",
        [("default_code", "in", list(codes))],
        ["default_code", "qty_available"],
    )
    return {p["default_code"]: p["qty_available"] for p in products}


def expected_change(code: str, units: int) -> dict[str, float]:
    """Stock moved by building ``units`` of ``code``: it up, its components down."""
    return {code: units, **{part: -qty * units for part, qty in BOMS[code]}}


def change(before: dict, after: dict) -> dict[str, float]:
    return {code: after[code] - before[code] for code in before}


def confirm_new_order(odoo, code: str, quantity: int) -> str:
    """Create and confirm an MO; return its PICO order reference."""
    (product_id,) = odoo.call(
        "product.product", "search", [("default_code", "=", code)]
    )
    production_id = odoo.call(
        "mrp.production", "create", {"product_id": product_id, "product_qty": quantity}
    )
    return confirm(odoo, production_id)


def confirm(odoo, production_id: int) -> str:
    odoo.call("mrp.production", "action_confirm", [production_id])
    (production,) = odoo.call(
        "mrp.production", "read", [production_id], ["pico_order_ref"]
    )
    return production["pico_order_ref"]


def built(odoo, order_ref: str, units: int) -> list[dict] | None:
    """The MOs of an order once all are done and produced ``units`` together."""
    productions = odoo.search_read(
        "mrp.production",
        [("pico_order_ref", "=", order_ref)],
        ["state", "qty_produced"],
    )
    done = all(p["state"] == "done" for p in productions)
    produced = sum(p["qty_produced"] for p in productions)
    return productions if productions and done and produced == units else None


def wait_until_built(odoo, order_ref: str, units: int) -> list[dict]:
    return wait_until(
        lambda: built(odoo, order_ref, units),
        BUILD_TIMEOUT,
        f"PICO builds {units} unit(s) of {order_ref} and Odoo closes its MOs",
    )


def units_of(odoo, order_ref: str) -> list[dict]:
    return odoo.search_read(
        "pico.unit", [("external_order_id", "=", order_ref)], ["state", "lot_id"]
    )


def wait_until_ordered(pico, order_ref: str) -> None:
    wait_until(
        lambda: pico.orders(order_ref),
        ORDER_TIMEOUT,
        f"Odoo's dispatcher orders {order_ref} from PICO",
    )


# -- the demo command -------------------------------------------------------------


class OutputReader:
    """Collects a child's output lines in a thread, so that waiting never blocks."""

    def __init__(self, process: subprocess.Popen):
        self.lines: list[str] = []
        self._thread = threading.Thread(target=self._read, args=(process.stdout,))
        self._thread.start()

    def _read(self, stream) -> None:
        self.lines.extend(stream)

    @property
    def text(self) -> str:
        return "".join(self.lines)

    def join(self) -> str:
        self._thread.join(timeout=30)
        return self.text


def stop_demo(demo: subprocess.Popen) -> None:
    """Ask bin/demo to stop its processes (SIGTERM); kill it only if it hangs."""
    if demo.poll() is None:
        demo.terminate()
        try:
            demo.wait(timeout=60)
        except subprocess.TimeoutExpired:
            demo.kill()
            demo.wait(timeout=30)


def test_bin_demo_keeps_the_data_serves_and_stops_on_ctrl_c(
    demo_config, demo_processes
):
    demo_processes.stop()  # bin/demo needs the ports
    demo = subprocess.Popen(
        demo_command(),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    output = OutputReader(demo)
    try:
        wait_until(
            lambda: "Ctrl-C stops it" in output.text or demo.poll() is not None,
            DEMO_START_TIMEOUT,
            "bin/demo says it is serving",
        )
        assert demo.poll() is None, output.text
        odoo = OdooRpc(f"http://127.0.0.1:{ODOO_PORT}", demo_config.db)
        demo_orders = odoo.call(
            "mrp.production", "search_count", [("origin", "=", DEMO_ORIGIN)]
        )
        assert demo_orders == 1, "re-running the demo must not add a second demo order"
        assert answers(f"{demo_config.sim_url}/"), "the simulator's page"
        demo.send_signal(signal.SIGINT)
        demo.wait(timeout=60)
    finally:
        stop_demo(demo)
    text = output.join()
    assert demo.returncode == 0, text
    assert (
        f"http://localhost:{ODOO_PORT}" in text
        and "login admin, password admin" in text
    )
    assert not port_in_use(ODOO_PORT) and not port_in_use(SIM_PORT), "both stopped"


# -- a day of history ---------------------------------------------------------------


def test_the_demo_opens_on_a_dashboard_with_a_day_of_history(odoo):
    (admin,) = odoo.search_read("res.users", [("login", "=", "admin")], ["action_id"])
    assert admin["action_id"][0] == odoo.ref("pico_mes.pico_dashboard_action")
    cards = {
        card["code"]: card["count"]
        for card in odoo.search_read("pico.dashboard.card", [], ["code", "count"])
    }
    assert cards["completions"] >= 40, cards
    assert cards["process_times"] >= 1, cards  # the lamp's assembly, the box's wiring
    times = odoo.search_read(
        "pico.unit.process", [], ["station", "operator", "cycle_time", "completed_at"]
    )
    assert len(times) >= 120
    assert len({t["station"] for t in times}) >= 5
    assert len({t["operator"] for t in times}) >= 4
    minutes = sorted(t["cycle_time"] for t in times)
    assert 5 < minutes[len(minutes) // 2] < 40, "minutes of work, not seconds"
    assert len({t["completed_at"][:13] for t in times}) >= 12, "over the day"
    logged = odoo.call(
        "mrp.workcenter.productivity", "search_count", [("pico_unit_id", "!=", False)]
    )
    assert logged >= 120, "the work orders' time tabs hold PICO's times"


# -- PICO builds what Odoo orders -------------------------------------------------


def test_confirmed_demo_order_is_built_by_pico(pico, odoo):
    (draft,) = odoo.call(
        "mrp.production",
        "search",
        [("origin", "=", DEMO_ORIGIN), ("state", "=", "draft")],
    )
    before = on_hand(odoo, expected_change(SENSOR, 2))
    order_ref = confirm(odoo, draft)
    productions = wait_until_built(odoo, order_ref, units=2)
    assert len(productions) == 2, "one MO per unit: the order and its backorder"
    assert change(before, on_hand(odoo, before)) == expected_change(SENSOR, 2)
    assert [unit["state"] for unit in units_of(odoo, order_ref)] == ["done", "done"]


def test_serial_tracked_lamps_are_built_with_a_serial_each(pico, odoo):
    before = on_hand(odoo, expected_change(LAMP, 2))
    order_ref = confirm_new_order(odoo, LAMP, 2)
    productions = wait_until_built(odoo, order_ref, units=2)
    finished = odoo.search_read(  # the serials the orders produced, on each series
        "stock.move.line",
        [
            ("move_id.production_id", "in", [p["id"] for p in productions]),
            ("lot_id", "!=", False),
        ],
        ["lot_id"],
    )
    serials = {line["lot_id"][1] for line in finished}
    assert len(productions) == 2 and len(serials) == 2, productions
    units = units_of(odoo, order_ref)
    assert {unit["lot_id"][1] for unit in units if unit["lot_id"]} == serials
    assert change(before, on_hand(odoo, before)) == expected_change(LAMP, 2)


# -- exactly once -----------------------------------------------------------------


def webhook_headers(odoo) -> dict[str, str]:
    (company,) = odoo.search_read(
        "res.company", [("pico_enabled", "=", True)], ["pico_webhook_secret"]
    )
    return {
        "Content-Type": "application/json",
        "X-Pico-Webhook-Secret": company["pico_webhook_secret"],
    }


def post_at_once(url: str, body: dict, headers: dict, copies: int) -> list:
    """POST the same body from ``copies`` threads released together."""
    start = threading.Barrier(copies)

    def post(_copy):
        start.wait(timeout=30)
        return requests.post(
            url, data=json.dumps(body), headers=headers, timeout=RPC_TIMEOUT
        )

    with ThreadPoolExecutor(copies) as pool:
        return list(pool.map(post, range(copies)))


def completion_webhook_for(pico, odoo, order_ref: str) -> dict:
    """A webhook body exactly as PICO sent it, for another order: a sensor kit
    order is built and delivered first, and its completion is re-addressed."""
    template_ref = confirm_new_order(odoo, SENSOR, 1)
    wait_until_ordered(pico, template_ref)
    pico.complete(template_ref, SENSOR_OPERATION, 0)
    wait_until_built(odoo, template_ref, units=1)
    (delivery,) = pico.completion_deliveries(template_ref)
    body = copy.deepcopy(delivery["body"])
    completion_of(body)["externalOrderId"] = order_ref
    return body


def test_one_completion_posted_by_8_threads_produces_one_unit(manual_pico, odoo):
    order_ref = confirm_new_order(odoo, SENSOR, 1)
    wait_until_ordered(manual_pico, order_ref)
    body = completion_webhook_for(manual_pico, odoo, order_ref)
    before = on_hand(odoo, expected_change(SENSOR, 1))
    url = f"http://127.0.0.1:{ODOO_PORT}/pico_mes/webhook"
    responses = post_at_once(url, body, webhook_headers(odoo), copies=8)
    assert [r.status_code for r in responses] == [200] * 8, [r.text for r in responses]
    assert built(odoo, order_ref, units=1), "the unit is produced by then"
    assert change(before, on_hand(odoo, before)) == expected_change(SENSOR, 1)
    assert [unit["state"] for unit in units_of(odoo, order_ref)] == ["done"]
    received = odoo.search_read(
        "pico.message",
        [("direction", "=", "in"), ("order_ref", "=", order_ref)],
        ["state"],
    )
    assert [message["state"] for message in received] == ["done"], "kept once"


# -- reconciliation ---------------------------------------------------------------


def failed_deliveries(pico, order_ref: str) -> list[dict]:
    return [
        delivery
        for delivery in pico.completion_deliveries(order_ref)
        if delivery["attempts"] and delivery["state"] != "delivered"
    ]


def test_completion_missed_while_odoo_is_down_is_reconciled(
    manual_pico, odoo, demo_processes
):
    order_ref = confirm_new_order(odoo, SENSOR, 1)
    wait_until_ordered(manual_pico, order_ref)
    demo_processes.odoo.stop()
    manual_pico.complete(order_ref, SENSOR_OPERATION, 0)
    wait_until(
        lambda: failed_deliveries(manual_pico, order_ref),
        30,
        "the simulator tries the webhook and fails: Odoo is down",
    )
    demo_processes.start_odoo()
    reconcile = odoo.ref("pico_mes.ir_cron_pico_reconcile")
    odoo.call("ir.cron", "method_direct_trigger", [reconcile])
    wait_until_built(odoo, order_ref, units=1)
    assert [unit["state"] for unit in units_of(odoo, order_ref)] == ["done"]
    assert failed_deliveries(manual_pico, order_ref), "no webhook closed it"

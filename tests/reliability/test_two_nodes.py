"""Case 7, two nodes: two prefork Odoo servers on one database and one filestore,
as Odoo scales out, behind a round-robin load balancer. Orders are confirmed on
both; both register PICO's webhooks (to the balancer) at the same moment.
PICO's floor completes the units while concurrent senders deliver them
through the balancer, with duplicates and out of order, and both nodes run the
crons (processing, reconciliation of the same completions, dispatch, operation
sync, autovacuum) and sync the operations PICO changes meanwhile; then PICO
delivers every completion once more, through the balancer. The dispatch and
process crons run only when triggered (a trigger made on one node wakes the
cron workers of both): every unit is sent to PICO once, every completion
applied once, nothing is left without a wake-up, and neither node logs an
ERROR line."""

import threading
import time
import uuid

import pytest

from .balancer import RoundRobin
from .stack import (
    BALANCER_PORT,
    LAMP_OP,
    WEBHOOK_ROUTE,
    Deliveries,
    Figures,
    consumed_lots,
    delivery_plan,
    event_check,
    expected_component_use,
    finished_quants,
    lamp_serials,
    open_productions,
    redirect_webhooks,
    send_concurrently,
    size,
    unit_events,
    wait_units_sent,
)

COMPONENTS = ["PICO-LED-DRIVER", "RELY-SCREW", "RELY-BOARD"]
CRONS = (
    "pico_mes.ir_cron_pico_process",
    "pico_mes.ir_cron_pico_reconcile",
    "pico_mes.ir_cron_pico_dispatch",
    "pico_mes.ir_cron_pico_sync_operations",
    "base.autovacuum_job",
)
NEW_OPERATIONS = 10  # changed in PICO during the case: webhooks and syncs race
# run only when triggered during the case: a lost wake-up leaves work undone
TRIGGERED_ONLY = ("pico_mes.ir_cron_pico_dispatch", "pico_mes.ir_cron_pico_process")
NOWHERE = "http://127.0.0.1:9/pico_mes/webhook"  # the discard port: refused


@pytest.fixture(scope="module")
def node2(stack):
    node = stack.node().start()
    try:
        yield node
    finally:
        node.stop()


@pytest.fixture
def triggered_only(stack):
    """The dispatch and process crons run when triggered, not on their own
    schedule (next call in a day), until the end of the case."""
    ids = ",".join(str(stack.rpc.ref(xmlid)) for xmlid in TRIGGERED_ONLY)
    saved = stack.sql(
        "SELECT id, interval_type, nextcall FROM ir_cron"
        " WHERE id = ANY(string_to_array(:'ids', ',')::int[])",
        ids=ids,
    )
    stack.sql(
        "UPDATE ir_cron SET interval_type = 'days',"
        " nextcall = now() AT TIME ZONE 'UTC' + interval '1 day'"
        " WHERE id = ANY(string_to_array(:'ids', ',')::int[])",
        ids=ids,
    )
    try:
        yield
    finally:
        for row in saved.splitlines():
            cron_id, interval_type, nextcall = row.split("|")
            stack.sql(
                "UPDATE ir_cron SET interval_type = :'type', nextcall = :'at'"
                " WHERE id = :'id'",
                id=cron_id,
                type=interval_type,
                at=nextcall,
            )


@pytest.fixture
def balancer(stack, node2):
    """PICO's webhooks reach both nodes through it, as the company's public URL."""
    front = RoundRobin(BALANCER_PORT, [stack.config.odoo_url, node2.url]).start()
    (company,) = stack.rpc.search_read(
        "res.company", [("pico_enabled", "=", True)], ["id"]
    )
    stack.rpc.call(
        "res.company", "write", [company["id"]], {"pico_public_url": front.url}
    )
    try:
        yield front
    finally:
        stack.rpc.call(
            "res.company", "write", [company["id"]], {"pico_public_url": False}
        )
        redirect_webhooks(stack, stack.webhook_url)
        front.stop()


def test_two_nodes_send_and_apply_each_unit_once(
    stack, node2, balancer, triggered_only, figures
):
    nodes = [stack, node2]
    offsets = [node.log_offset() for node in nodes]
    completions, mos = size("TWO_NODES_COMPLETIONS"), size("TWO_NODES_MOS")
    saves_before = saves_in_pico(stack)

    refs = confirm_on_both(stack, nodes, mos, completions // mos)
    ref_names = [ref for ref, _c, _q in refs]
    wait_units_sent(stack, ref_names)
    saves = saves_in_pico(stack) - saves_before
    units = sum(qty for _r, _c, qty in refs)

    settings = {n.port: n.rpc.call("res.config.settings", "create", {}) for n in nodes}
    registered = on_both(
        nodes,
        lambda node: node.rpc.call(
            "res.config.settings",
            "action_pico_register_webhooks",
            [settings[node.port]],
        ),
    )
    subscriptions = [
        s
        for s in stack.control.get("/control/subscriptions")["subscriptions"]
        if s["webhookUrl"] == balancer.url + WEBHOOK_ROUTE
    ]
    stock_before = stack.qty_available(COMPONENTS)

    redirect_webhooks(stack, NOWHERE)  # PICO's own deliveries come at the end
    events = unit_events(stack, refs)
    plan = delivery_plan(events)
    deliveries = Deliveries()
    start = time.perf_counter()
    stop, cron_runs = threading.Event(), {}
    background = [
        threading.Thread(target=run_crons, args=(stack, node, i, stop, cron_runs))
        for i, node in enumerate(nodes)
    ]
    background.append(threading.Thread(target=change_operations, args=(stack, nodes)))
    pico_floor = threading.Thread(target=floor, args=(stack, events, plan, deliveries))
    for thread in [*background, pico_floor]:
        thread.start()
    send_concurrently(
        stack, plan, size("SENDERS"), deliveries=deliveries,
        urls=[balancer.url + WEBHOOK_ROUTE],
    )  # fmt: skip
    pico_floor.join()
    redirect_webhooks(stack, balancer.url + WEBHOOK_ROUTE)
    late = deliver_pending(stack)
    stop.set()
    for thread in background:
        thread.join()
    stack.inbound_settled(timeout=1800)  # by triggered runs only
    seconds = time.perf_counter() - start
    late_statuses = {}
    for answer in late:
        late_statuses[answer["status"]] = late_statuses.get(answer["status"], 0) + 1

    errors = [
        line for node, at in zip(nodes, offsets, strict=True)
        for line in node.log_errors_since(at)
    ]  # fmt: skip
    result = Figures(
        "two nodes",
        sent=deliveries.sent,
        accepted=deliveries.accepted,
        duplicates=deliveries.duplicates,
        seconds=seconds,
        extra={
            "MOs": mos,
            "units saved in PICO": saves,
            "deliveries per node": {
                url.rsplit(":", 1)[1]: n for url, n in balancer.forwarded.items()
            },
            "PICO's late deliveries": late_statuses,
            "cron runs per node (worker, by hand)": {
                node.port: (cron_worker_runs(node, at), cron_runs.get(node.port, 0))
                for node, at in zip(nodes, offsets, strict=True)
            },
            "ERROR lines": len(errors),
            "senders s": round(deliveries.seconds, 1),
            "completions/s": round(len(events) / seconds, 1),
        },
    )
    problems, short = event_check(stack, events, result)
    figures(result)
    assert saves == units, f"{saves} saves in PICO for {units} units"
    assert all(r["params"]["type"] == "success" for r in registered), registered
    assert len(subscriptions) == 2, subscriptions
    assert not deliveries.server_errors, deliveries.server_errors[:5]
    assert deliveries.statuses == {200: len(plan)}, deliveries.statuses
    assert set(late_statuses) == {200}, late_statuses
    assert not problems, dict(list(problems.items())[:10])
    assert not short, f"finished quantity per order (wanted, got): {short}"
    assert not open_productions(stack, ref_names)
    produced, consumed = lamp_serials(events)
    assert set(finished_quants(stack, produced).values()) <= {1.0}
    assert set(consumed_lots(stack, consumed).values()) <= {1.0}
    stock_after = stack.qty_available(COMPONENTS)
    wanted = expected_component_use((code, qty) for _ref, code, qty in refs)
    used_stock = {c: stock_before[c] - stock_after[c] for c in COMPONENTS}
    assert used_stock == wanted, f"component stock used {used_stock}, BoMs {wanted}"
    failed = stack.rpc.search_read(
        "pico.message", [("state", "=", "failed"), ("direction", "=", "in")], ["error"]
    )
    assert not failed, failed[:5]
    assert not errors, f"{len(errors)} ERROR lines, first: {errors[:3]}"


# ----------------------------------------------------------------- helpers


def deliver_pending(stack):
    """PICO delivers every pending webhook now, one after the other (a few
    thousand at full size: longer than the control API's usual timeout)."""
    response = stack.control.session.post(
        f"{stack.control.url}/control/deliver", json={"force": True}, timeout=3600
    )
    assert response.status_code == 200, response.text
    return response.json()["results"]


def saves_in_pico(stack):
    return stack.control.get("/control/stats")["mutations"].get("operationOrderSave", 0)


def on_both(nodes, action):
    """``action(node)`` on every node at the same moment; their results."""
    results = [None] * len(nodes)
    barrier = threading.Barrier(len(nodes))

    def run(position, node):
        barrier.wait()
        results[position] = action(node)

    threads = [threading.Thread(target=run, args=item) for item in enumerate(nodes)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def confirm_on_both(stack, nodes, mos, per_mo):
    """Half the MOs confirmed on each node, one after the other (Odoo's own
    reservations of one quant conflict, and log it, when two users confirm at
    the same moment): each node's confirmation wakes the dispatchers of both."""
    lamps, sensors = mos // 2, mos - mos // 2
    shares = [
        {
            "PICO-LAMP": [per_mo] * (lamps // 2),
            "PICO-SENSOR": [per_mo] * (sensors // 2),
        },
        {
            "PICO-LAMP": [per_mo] * (lamps - lamps // 2),
            "PICO-SENSOR": [per_mo] * (sensors - sensors // 2),
        },
    ]
    refs = []
    for node, share in zip(nodes, shares, strict=True):
        refs += stack.confirmed_mos(share, rpc=node.rpc)[1]
    return refs


def settings_action(node, name, settings=None):
    """A button of the PICO settings; saving the settings writes the company
    (``settings``: an already saved record)."""
    settings = settings or node.rpc.call("res.config.settings", "create", {})
    return node.rpc.call("res.config.settings", f"action_pico_{name}", [settings])


def cron_worker_runs(node, offset):
    """Runs of the PICO crons by the node's cron worker since ``offset``."""
    return sum(
        1
        for line in node.log_lines_since(offset, "Job 'PICO: ")
        if line.rstrip().endswith(" starting")
    )


def run_crons(stack, node, turn, stop, runs):
    """Run the crons on ``node`` in turn, as an administrator would, until
    ``stop``; the other node starts at another cron, so different crons overlap."""
    position = turn * 2
    while not stop.is_set():
        xmlid = CRONS[position % len(CRONS)]
        if stack.trigger_cron(xmlid, busy_ok=True, rpc=node.rpc) is not None:
            runs[node.port] = runs.get(node.port, 0) + 1
        time.sleep(1)  # an administrator's pace; the cron workers run them too
        position += 1


def floor(stack, events, plan, deliveries):
    """PICO's floor completes the units as the senders deliver them, so that
    reconciliation (asking PICO) races the webhooks: unit i once the senders
    have sent their share of the plan up to it."""
    for position, body in enumerate(events):
        while deliveries.sent < position * len(plan) / len(events) - 8:
            time.sleep(0.05)
        event = body["data"]["operationOrderCompletesStream"]
        arguments = {
            "externalOrderId": event["externalOrderId"],
            "operationId": event["operation"]["id"],
            "orderIndex": event["orderIndex"],
        }
        if event["operation"]["id"] == LAMP_OP:
            consumed = event["operationSummary"]["consumedSerials"][0]["value"]
            arguments["producedSerial"] = event["endState"]["producedSerial"]
            arguments["consumedSerials"] = {"PICO-LED-DRIVER": consumed}
        stack.control.post("/control/complete", **arguments)


def change_operations(stack, nodes):
    """New operations in PICO while both nodes sync at the same moment: PICO's
    operation webhooks (through the balancer) race the syncs."""
    run = uuid.uuid4().hex[:8]
    settings = {n.port: n.rpc.call("res.config.settings", "create", {}) for n in nodes}
    for index in range(NEW_OPERATIONS):
        stack.control.post(
            "/control/operations",
            id=f"op-two-nodes-{run}-{index}",
            name=f"Two nodes {run} {index}",
        )
        on_both(
            nodes,
            lambda node: settings_action(node, "sync_operations", settings[node.port]),
        )

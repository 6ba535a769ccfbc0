"""Case 2, PICO faults during outbound: MOs confirmed, then cancelled or
resized, while PICO is down, slow, answers 5xx, GraphQL errors, partial batches
and drops connections. After recovery every live unit exists in PICO exactly
once, and no unit of a cancelled or reduced MO is left open in PICO."""

import random
import time

from .stack import Figures, settle_outbound, size

FAULTS = (
    {"latency": 4.0, "count": 3},
    {"http_status": 503, "count": 4},
    {"graphql_error": "PICO is being upgraded", "count": 2},
    {"drop_connection": True, "count": 3},
    "downtime",
    "partial",
    {"http_status": 502, "count": 2},
    {"latency": 1.0, "count": 5},
    {"http_status": 503, "count": 1},  # the save refused, the cancel after it not
)


def inject(stack, fault):
    if fault == "downtime":
        stack.pico.stop()
    elif fault == "partial":
        stack.proxy.partial_batches = 3
    else:
        stack.control.post("/control/faults", **fault)


def clear_faults(stack):
    if not stack.pico.running:
        stack.pico.start()
    stack.control.post("/control/faults")  # an empty body clears them
    stack.proxy.partial_batches = 0


def fault_name(fault):
    return fault if isinstance(fault, str) else next(iter(fault))


def test_outbound_survives_pico_faults(stack, figures):
    """Phase by phase, one fault each: confirm a slice of the MOs, cancel or
    resize some confirmed earlier, and run the dispatcher into the fault."""
    rng = random.Random(2)
    count = size("OUTBOUND_MOS")
    quantities = {
        "PICO-LAMP": [rng.randint(1, 4) for _i in range(count // 2)],
        "PICO-SENSOR": [rng.randint(1, 4) for _i in range(count - count // 2)],
    }
    vals = [(code, qty) for code, qtys in quantities.items() for qty in qtys]
    rng.shuffle(vals)
    slices = [vals[i :: len(FAULTS)] for i in range(len(FAULTS))]
    ids, cancelled, resized, injected = [], [], {}, {}
    start = time.perf_counter()
    try:
        for fault, work in zip(FAULTS, slices, strict=True):
            earlier = [i for i in ids if i not in cancelled and i not in resized]
            inject(stack, fault)
            injected[fault_name(fault)] = injected.get(fault_name(fault), 0) + 1
            new_ids, _refs = stack.confirmed_mos(group_by_code(work))
            ids += new_ids
            # confirmed and cancelled before the dispatcher runs
            stack.rpc.call("mrp.production", "action_cancel", new_ids[:1])
            cancelled += new_ids[:1]
            for production_id in rng.sample(earlier, len(earlier) // 4):
                if rng.random() < 0.5:
                    stack.rpc.call("mrp.production", "action_cancel", [production_id])
                    cancelled.append(production_id)
                else:
                    resized[production_id] = rng.choice([1, 2, 5, 6])
                    change_quantity(stack, production_id, resized[production_id])
            stack.trigger_cron("pico_mes.ir_cron_pico_dispatch")
            clear_faults(stack)
    finally:
        clear_faults(stack)
    rounds = settle_outbound(stack)
    seconds = time.perf_counter() - start

    mos = {
        row["id"]: row
        for row in stack.rpc.search_read(
            "mrp.production", [("id", "in", ids)],
            ["pico_order_ref", "state", "product_qty"],
        )
    }  # fmt: skip
    problems, live_total, cancelled_total = [], 0, 0
    for production in mos.values():
        ref = production["pico_order_ref"]
        units = stack.rpc.search_read(
            "pico.unit", [("external_order_id", "=", ref)],
            ["operation_pico_id", "order_index", "state"],
        )  # fmt: skip
        in_pico = {
            (o["operationId"], o["orderIndex"]): o["state"]
            for o in stack.control.orders(ref)
        }
        live = {(u["operation_pico_id"], u["order_index"]): u for u in units
                if u["state"] != "cancelled"}  # fmt: skip
        dead = {(u["operation_pico_id"], u["order_index"]) for u in units} - set(live)
        live_total += len(live)
        cancelled_total += len(dead)
        wanted = 0 if production["state"] == "cancel" else production["product_qty"]
        if len(live) != wanted:
            problems.append(f"{ref}: {len(live)} live units in Odoo, {wanted} wanted")
        for key, unit in live.items():
            if unit["state"] != "sent":
                problems.append(f"{ref} {key}: Odoo unit {unit['state']}")
            if in_pico.get(key) not in ("open", "started", "completed"):
                problems.append(f"{ref} {key}: live, PICO has {in_pico.get(key)}")
        open_in_pico = {
            k for k, state in in_pico.items() if state in ("open", "started")
        }
        for key in open_in_pico - set(live):
            why = "cancelled in Odoo" if key in dead else "unknown to Odoo"
            problems.append(f"{ref} {key}: open in PICO, {why}")

    figures(
        Figures(
            "PICO faults during outbound",
            sent=len(ids),
            seconds=seconds,
            extra={
                "live units": live_total,
                "cancelled units": cancelled_total,
                "MOs cancelled": len(cancelled),
                "MOs resized": len(resized),
                "faults": injected,
                "partial batches": stack.proxy.refused,
                "recovery rounds": rounds,
                "inconsistencies": len(problems),
            },
        )
    )
    assert not problems, problems[:15]


def group_by_code(pairs):
    grouped = {}
    for code, qty in pairs:
        grouped.setdefault(code, []).append(qty)
    return grouped


def change_quantity(stack, production_id, quantity):
    """Odoo's "change quantity to produce" wizard, as a planner uses it."""
    wizard = stack.rpc.call(
        "change.production.qty", "create",
        {"mo_id": production_id, "product_qty": quantity},
    )  # fmt: skip
    stack.rpc.call("change.production.qty", "change_prod_qty", [wizard])

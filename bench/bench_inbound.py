"""Completions from PICO: cost per unit, duplicates, and a burst over HTTP.

1. SQL queries and time to process one unit's completion, divided by Odoo's own
   headless production of one unit of the same kind of MO (set the quantity, pick,
   mark done with a backorder), both measured here (target: at most 1.2).
2. SQL queries to answer a duplicate (target: at most 5).
3. Completions per second through the HTTP route for a burst, against the
   in-process rate of part 1. Part 3 commits: run it on a throwaway database.
"""

import json
import os
import time
from concurrent.futures import ThreadPoolExecutor
from statistics import median

import requests
from harness import Meter, enable_pico, odoo_env, parse_args, report, simulator
from products import desk_lamp, make_mo, sensor_kit

ROUNDS = 12


def main():
    args = parse_args(
        __doc__,
        burst=(int, 500, "completions POSTed in the HTTP burst"),
        port=(
            int,
            int(os.environ.get("PICO_BENCH_PORT", "8090")) + 1,
            "port of the in-process Odoo HTTP server",
        ),
    )
    with simulator() as sim:
        with odoo_env(args, commit=True) as env:
            company = enable_pico(env, sim)
            kits = {"untracked": sensor_kit(env), "serial": desk_lamp(env)}
            env["pico.operation"]._pico_sync_company(company, full=True)
            env.cr.commit()
            per_unit = {kind: compare_one_unit(env, sim, kind, kits) for kind in kits}
            duplicate = duplicate_queries(env, sim, kits["untracked"])
            env.cr.rollback()
            burst_events = prepare_burst(env, sim, kits["untracked"], args.burst)
            secret = company._pico_webhook_secret()
        http = http_burst(args, burst_events, secret)
    inprocess_rate = 1 / per_unit["untracked"]["ours"][0]
    for kind, result in per_unit.items():
        (ours_s, ours_q), (base_s, base_q) = result["ours"], result["odoo"]
        report(
            f"One {kind} unit: pico_mes completion vs Odoo's headless production",
            [
                (
                    "pico_mes (receive + process)",
                    f"{ours_s * 1000:.0f} ms, {ours_q:.0f} queries",
                ),
                (
                    "Odoo headless (baseline)",
                    f"{base_s * 1000:.0f} ms, {base_q:.0f} queries",
                ),
                ("ratio time", f"{ours_s / base_s:.2f} (target <= 1.2)"),
                ("ratio queries", f"{ours_q / base_q:.2f} (target <= 1.2)"),
            ],
        )
    report(
        "Duplicate completion",
        [
            ("queries in the handler (auth + dedup)", f"{duplicate} (target <= 5)"),
            ("queries for the whole HTTP request", f"{http['duplicate_queries']}"),
        ],
    )
    report(
        f"Burst of {http['count']} completions through POST /pico_mes/webhook",
        [
            ("completions per second", f"{http['count'] / http['seconds']:.1f}"),
            ("in-process rate (part 1)", f"{inprocess_rate:.1f}"),
            (
                "ratio HTTP / in-process",
                f"{http['count'] / http['seconds'] / inprocess_rate:.2f}",
            ),
            ("answers", ", ".join(f"{k}: {v}" for k, v in http["statuses"].items())),
        ],
    )


def receive(env, event):
    from odoo.addons.pico_mes.services.payload import parse_events

    messages, duplicates = env["pico.message"]._receive(
        env.company, parse_events(event)
    )
    messages._process()
    return messages, duplicates


def compare_one_unit(env, sim, kind, kits):
    """Our path and Odoo's on fresh 3-unit MOs, taking turns to go first."""
    meters = {"ours": [], "odoo": []}
    for round_ in range(ROUNDS):
        sides = ("ours", "odoo") if round_ % 2 else ("odoo", "ours")
        for side in sides:
            production = confirmed_mo(env, kits, kind)
            if side == "ours":
                meters[side].append(
                    measure_ours(env, sim, kits, kind, production, round_)
                )
            else:
                with Meter(env) as meter:
                    odoo_headless_unit(env, kits, kind, production, f"ODOO-{round_}")
                meters[side].append(meter)
    return {
        side: (median(m.seconds for m in runs), median(m.queries for m in runs))
        for side, runs in meters.items()
    }


def measure_ours(env, sim, kits, kind, production, round_):
    env["pico.message"]._cron_dispatch()
    event = complete(sim, env, kits, kind, production, f"OURS-{round_}")
    with Meter(env) as meter:
        messages, _dup = receive(env, event)
    assert messages.state == "done", messages.error
    return meter


def confirmed_mo(env, kits, kind):
    product = kits[kind] if kind == "untracked" else kits[kind][0]
    production = make_mo(env, product, 3)
    production.action_confirm()
    return production


def next_driver_lot(env, kits):
    _lamp, driver, lots = kits["serial"]
    quants = env["stock.quant"].search(
        [
            ("product_id", "=", driver.id),
            ("quantity", ">", 0),
            ("lot_id", "in", lots.ids),
        ],
        limit=1,
    )
    return quants.lot_id


def complete(sim, env, kits, kind, production, serial):
    if kind == "untracked":
        return sim.complete_unit(production.pico_order_ref, "op-sensor-kit", 0)
    lot = next_driver_lot(env, kits)
    return sim.complete_unit(
        production.pico_order_ref,
        "op-desk-lamp",
        0,
        produced_serial=serial,
        consumed_serials={"PICO-LED-DRIVER": lot.name},
    )


def odoo_headless_unit(env, kits, kind, production, serial):
    """What a careful integrator writes with Odoo alone: one unit, with a backorder."""
    if kind == "serial":
        lamp, driver, _lots = kits["serial"]
        from odoo.addons.pico_mes import compat

        compat.set_producing_lot(
            production, env["stock.lot"].create({"name": serial, "product_id": lamp.id})
        )
        move = production.move_raw_ids.filtered(lambda m: m.product_id == driver)
        move.move_line_ids.unlink()
        vals = move._prepare_move_line_vals(1)
        env["stock.move.line"].create(
            dict(vals, lot_id=next_driver_lot(env, kits).id, picked=True)
        )
    production.qty_producing = 1
    production.set_qty_producing()
    production.move_raw_ids.picked = True
    production.with_context(
        skip_backorder=True, mo_ids_to_backorder=production.ids, skip_redirection=True
    ).button_mark_done()
    assert production.state == "done"


def duplicate_queries(env, sim, sensor):
    production = make_mo(env, sensor, 1)
    production.action_confirm()
    env["pico.message"]._cron_dispatch()
    event = sim.complete_unit(production.pico_order_ref, "op-sensor-kit", 0)
    receive(env, event)
    secret = env.company._pico_webhook_secret()
    with Meter(env) as meter:
        company = env["res.company"]._pico_company_for_secret(secret)
        messages, duplicates = receive(
            env(context={"allowed_company_ids": company.ids}), event
        )
    assert (len(messages), duplicates) == (0, 1)
    return meter.queries


def prepare_burst(env, sim, sensor, count):
    """Committed MOs of 10 units, sent to PICO, and PICO's completion events."""
    productions = [make_mo(env, sensor, 10) for _i in range(count // 10)]
    for production in productions:
        production.action_confirm()
    env["pico.message"]._cron_dispatch()
    env.cr.commit()
    return [
        sim.complete_unit(production.pico_order_ref, "op-sensor-kit", index)
        for production in productions
        for index in range(10)
    ]


def http_burst(args, events, secret):
    import odoo
    from odoo.service import server

    odoo.tools.config["http_port"] = args.port
    odoo.tools.config["max_cron_threads"] = 0
    threaded = server.ThreadedServer(odoo.http.root)
    threaded.start(stop=False)
    url = f"http://127.0.0.1:{args.port}/pico_mes/webhook"
    headers = {"X-Pico-Webhook-Secret": secret, "Content-Type": "application/json"}
    session = requests.Session()

    def post(event):
        return session.post(
            url, data=json.dumps(event), headers=headers, timeout=60
        ).status_code

    try:
        post(events[0])  # warm up the registry in the server threads
        start = time.perf_counter()
        with ThreadPoolExecutor(max_workers=4) as pool:
            statuses = list(pool.map(post, events[1:]))
        seconds = time.perf_counter() - start
        before = odoo.sql_db.sql_counter
        assert post(events[0]) == 200
        duplicate = odoo.sql_db.sql_counter - before
    finally:
        threaded.stop()
    counts = {status: statuses.count(status) for status in set(statuses)}
    return {
        "count": len(statuses),
        "seconds": seconds,
        "statuses": counts,
        "duplicate_queries": duplicate,
    }


if __name__ == "__main__":
    main()

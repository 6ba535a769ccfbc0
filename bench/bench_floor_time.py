"""PICO process times on work orders: what one process completion costs.

SQL queries and time to receive and process one process (work-in-progress)
completion of a unit whose BoM operation maps to the process (the inbox row, the
unit's log, the process row and one time log on the work order), divided by the
baseline of writing one time log (``mrp.workcenter.productivity``) through the
ORM, both measured here on the same work orders. Also: the queries to answer a
replayed process completion.
"""

from datetime import timedelta
from statistics import median

from harness import Meter, enable_pico, odoo_env, parse_args, report, simulator
from products import desk_lamp, make_mo

PROCESSES = (("op-bench-assembly", "Assembly"), ("op-bench-test", "Test"))


def main():
    args = parse_args(__doc__, rounds=(int, 12, "process completions measured"))
    with simulator() as sim, odoo_env(args) as env:
        company = enable_pico(env, sim)
        lamp, _driver, _lots = desk_lamp(env)
        add_processes(env, sim, lamp)
        env["pico.operation"]._pico_sync_company(company, full=True)
        production = make_mo(env, lamp, args.rounds)
        production.action_confirm()
        env["pico.message"]._cron_dispatch()
        ours, odoo, replay = compare(env, sim, production, args.rounds)
    (ours_s, ours_q), (base_s, base_q) = ours, odoo
    report(
        "One process completion vs one time log written through the ORM",
        [
            ("pico_mes (receive + process)", f"{ours_s * 1000:.1f} ms, {ours_q} q"),
            ("ORM time log (baseline)", f"{base_s * 1000:.1f} ms, {base_q} q"),
            ("ratio time", f"{ours_s / base_s:.2f}"),
            ("ratio queries", f"{ours_q / max(base_q, 1):.2f}"),
            ("queries for a replayed completion", f"{replay}"),
        ],
    )


def add_processes(env, sim, lamp):
    """Two PICO processes under the Desk Lamp, and a BoM routing mapped to them."""
    bom = env["mrp.bom"]._bom_find(lamp)[lamp]
    for pico_id, name in PROCESSES:
        sim.upsert_operation({"id": pico_id, "name": name})
        sim.upsert_sub_operation("op-desk-lamp", pico_id)
        workcenter = env["mrp.workcenter"].create(
            {"name": f"Bench {name}", "costs_hour": 60, "pico_station_names": name}
        )
        bom.operation_ids = [
            (0, 0, {"name": name, "workcenter_id": workcenter.id, "time_cycle": 10})
        ]


def compare(env, sim, production, rounds):
    """Taking turns: one process completion, then one ORM time log, per unit."""
    from odoo.addons.pico_mes.services.payload import parse_events

    ours, odoo, event = [], [], None
    workorder = production.workorder_ids[:1]
    loss = env["mrp.workcenter.productivity.loss"].search(
        [("loss_type", "=", "productive")], limit=1
    )
    for index in range(rounds):
        event = sim.complete_wip(
            production.pico_order_ref,
            "op-desk-lamp",
            index,
            PROCESSES[0][0],
            station=PROCESSES[0][1],
        )
        sides = ("ours", "odoo") if index % 2 else ("odoo", "ours")
        for side in sides:
            with Meter(env) as meter:
                if side == "ours":
                    receive(env, parse_events, event)
                else:
                    orm_time_log(env, workorder, loss)
            (ours if side == "ours" else odoo).append(meter)
    logs = workorder.time_ids.filtered("pico_unit_id")
    assert len(logs) == rounds, f"{len(logs)} PICO time logs, expected {rounds}"
    with Meter(env) as replay:
        receive(env, parse_events, event)
    assert len(workorder.time_ids.filtered("pico_unit_id")) == rounds
    return summary(ours), summary(odoo), replay.queries


def receive(env, parse_events, event):
    messages, _duplicates = env["pico.message"]._receive(
        env.company, parse_events(event)
    )
    messages._process()
    assert all(m.state == "done" for m in messages), messages.mapped("error")


def orm_time_log(env, workorder, loss):
    from odoo import fields

    end = fields.Datetime.now()
    env["mrp.workcenter.productivity"].create(
        {
            "workorder_id": workorder.id,
            "workcenter_id": workorder.workcenter_id.id,
            "company_id": workorder.company_id.id,
            "loss_id": loss.id,
            "date_start": end - timedelta(minutes=3),
            "date_end": end,
            "description": "baseline",
        }
    )


def summary(meters):
    return median(m.seconds for m in meters), median(m.queries for m in meters)


if __name__ == "__main__":
    main()

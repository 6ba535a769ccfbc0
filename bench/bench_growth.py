"""Cost as orders grow: completing units of MOs of 5 to 500 units.

1. Growth curves, untracked, lot and serial: the first unit of a fresh MO of
   each size, completed by pico_mes (a PICO completion) and by Odoo's own
   per-unit path on an MO of the same size confirmed without PICO (finished
   lot, component lot, produce 1, mark done with a backorder for the rest),
   taking turns; the fastest of a few rounds (the one the machine's other work
   slowed least; queries: the median). Targets, serial: the first unit
   of the largest MO costs at most 1.5 times the first unit of a 5-unit MO, in
   time and in queries. Every size is also set against Odoo's path at that size.
2. A whole MO completed unit by unit (serial by default) against as many units
   completed on 5-unit MOs, one unit of each in turn: at most 2 times, in time
   and in queries. The cost of each of its units is the second curve, with the
   units of the last tenth against those of the first (at most 1.2).

The serials PICO reports are fresh ones, reserved by no MO, on both paths.
Runs in one transaction, rolled back.
"""

import json
import sys
from datetime import UTC, datetime
from statistics import median

from bench_inbound import receive
from harness import Meter, enable_pico, odoo_env, parse_args, report, start_simulator
from products import control_box, desk_lamp, make_mo, sensor_kit

SIZE_TARGET = 1.5  # first unit of the largest MO / of a 5-unit MO (serial)
WHOLE_TARGET = 2.0  # a whole MO unit by unit / as many units of 5-unit MOs
FLAT_TARGET = 1.2  # along one MO: its last units / its first ones
BASE_SIZE = 5
KINDS = ("untracked", "lot", "serial")


class Kit:
    """A product of one kind, mapped to its PICO operation, and what its units
    report: the finished serial or lot, and the component's."""

    OPERATIONS = {
        "untracked": "op-sensor-kit",
        "lot": "op-control-box",
        "serial": "op-desk-lamp",
    }

    def __init__(self, env, kind, product, component=None, component_lot=None):
        self.env, self.kind, self.product = env, kind, product
        self.component, self.component_lot = component, component_lot
        self.operation = self.OPERATIONS[kind]
        self.count = 0

    def map_to_operation(self, company):
        operation = self.env["pico.operation"].search(
            [("pico_id", "=", self.operation), ("company_id", "=", company.id)]
        )
        assert operation, self.operation
        self.product.product_tmpl_id.with_company(company).pico_operation_id = operation

    def unit(self, production):
        """(finished lot name, component lot) for the next unit of ``production``."""
        self.count += 1
        if self.kind == "untracked":
            return None, None
        if self.kind == "lot":
            return f"GROWTH-LOT-{production.id}", self.component_lot
        return f"GROWTH-SN-{self.count:06d}", self.fresh_serial()

    def stock_serials(self, count):
        """Component serials in stock for the MOs to reserve."""
        if self.kind != "serial":
            return
        lots = self.env["stock.lot"].create(
            [
                {"name": f"GROWTH-STOCK-{n:06d}", "product_id": self.component.id}
                for n in range(count)
            ]
        )
        location = self.env.ref("stock.stock_location_stock")
        for lot in lots:
            self.env["stock.quant"]._update_available_quantity(
                self.component, location, 1, lot_id=lot
            )

    def fresh_serial(self):
        """A component serial in stock that no MO has reserved."""
        lot = self.env["stock.lot"].create(
            {"name": f"GROWTH-DRV-{self.count:06d}", "product_id": self.component.id}
        )
        self.env["stock.quant"]._update_available_quantity(
            self.component, self.env.ref("stock.stock_location_stock"), 1, lot_id=lot
        )
        return lot

    def event(self, ref, index, finished, component_lot):
        at = datetime.now(UTC).isoformat(timespec="milliseconds")
        event = {
            "externalOrderId": ref,
            "operation": {"id": self.operation},
            "orderIndex": index,
            "at": at.replace("+00:00", "Z"),
        }
        if finished:
            event["endState"] = {"producedSerial": finished}
        if component_lot:
            event["operationSummary"] = {
                "consumedSerials": [
                    {
                        "externalId": self.component.default_code,
                        "value": component_lot.name,
                    }
                ]
            }
        return event


def make_kits(env):
    sensor = sensor_kit(env)
    box, pcb, pcb_lot = control_box(env)
    lamp, driver, _lots = desk_lamp(env, serials=0)
    return {
        "untracked": Kit(env, "untracked", sensor),
        "lot": Kit(env, "lot", box, pcb, pcb_lot),
        "serial": Kit(env, "serial", lamp, driver),
    }


def cancel_rest(production):
    """Cancel what is left of ``production``'s order: its reservations go back
    to stock for the next MOs."""
    from odoo.addons.pico_mes import compat

    compat.production_family(production).filtered(
        lambda p: p.state not in ("done", "cancel")
    ).action_cancel()


class Chain:
    """One PICO order whose units are completed in order by PICO completions."""

    def __init__(self, kit, units):
        self.kit, self.index = kit, 0
        self.production = make_mo(kit.env, kit.product, units)
        self.production.action_confirm()
        self.ref = self.production.pico_order_ref

    def complete_next(self):
        env = self.kit.env
        holder = env["pico.unit"].search(
            [("external_order_id", "=", self.ref), ("order_index", "=", self.index)]
        )
        event = self.kit.event(
            self.ref, self.index, *self.kit.unit(holder.production_id)
        )
        self.index += 1
        with Meter(env) as meter:
            messages, _duplicates = receive(env, event)
        assert messages.state == "done", messages.error
        return meter.seconds, meter.queries, meter.cpu


def ours_first_unit(kit, size):
    chain = Chain(kit, size)
    cost = chain.complete_next()
    cancel_rest(chain.production)
    return cost


def odoo_first_unit(kit, size):
    """Odoo alone: an MO of ``size`` confirmed without PICO, its first unit
    produced as an integrator would with Odoo's own calls."""
    env, company = kit.env, kit.env.company
    company.pico_enabled = False
    production = make_mo(env, kit.product, size)
    production.action_confirm()
    company.pico_enabled = True
    finished, component_lot = kit.unit(production)
    with Meter(env) as meter:
        odoo_headless_unit(kit, production, finished, component_lot)
    cancel_rest(production)
    return meter.seconds, meter.queries, meter.cpu


def odoo_headless_unit(kit, production, finished, component_lot):
    from odoo.addons.pico_mes import compat

    env = kit.env
    if finished:
        lot = env["stock.lot"].search(
            [("name", "=", finished), ("product_id", "=", kit.product.id)], limit=1
        ) or env["stock.lot"].create({"name": finished, "product_id": kit.product.id})
        compat.set_producing_lot(production, lot)
    if component_lot:
        move = production.move_raw_ids.filtered(lambda m: m.product_id == kit.component)
        move.move_line_ids.unlink()
        share = move.product_uom_qty / production.product_qty
        vals = move._prepare_move_line_vals(share)
        env["stock.move.line"].create(dict(vals, lot_id=component_lot.id, picked=True))
    production.qty_producing = 1
    production.set_qty_producing()
    production.move_raw_ids.picked = True
    context = {"skip_backorder": True, "skip_redirection": True}
    if production.product_qty > 1:
        context["mo_ids_to_backorder"] = production.ids
    production.with_context(**context).button_mark_done()
    assert production.state == "done"


def growth(kits, kinds, sizes, rounds):
    """{kind: {path: [(seconds, queries, cpu seconds) per size]}}: the fastest
    of ``rounds`` (the one the machine's other work slowed least), the median
    of the queries."""
    results = {}
    for kind in kinds:
        ours_first_unit(kits[kind], BASE_SIZE)  # warm-up: caches, first lots
        odoo_first_unit(kits[kind], BASE_SIZE)
        runs = {"ours": {s: [] for s in sizes}, "odoo": {s: [] for s in sizes}}
        for round_ in range(rounds):
            for size in sizes:
                sides = ("ours", "odoo") if round_ % 2 else ("odoo", "ours")
                for side in sides:
                    measure = ours_first_unit if side == "ours" else odoo_first_unit
                    runs[side][size].append(measure(kits[kind], size))
        results[kind] = {
            side: [
                [
                    min(p[0] for p in by_size[s]),
                    median(p[1] for p in by_size[s]),
                    min(p[2] for p in by_size[s]),
                ]
                for s in sizes
            ]
            for side, by_size in runs.items()
        }
    return results


def whole_order(kit, units):
    """One ``units``-unit MO completed unit by unit, and as many units on
    5-unit MOs, one unit of each in turn (the machine's drift weighs on both)."""
    big, curve, baseline, small = Chain(kit, units), [], [], None
    for index in range(units):
        if index % BASE_SIZE == 0:
            if small:
                cancel_rest(small.production)
            small = Chain(kit, BASE_SIZE)
        curve.append(big.complete_next())
        baseline.append(small.complete_next())
    window = max(BASE_SIZE, units // 10)
    result = {"units": units, "window": window, "curve": curve, "baseline": baseline}
    for position, name in ((0, "seconds"), (1, "queries"), (2, "cpu")):
        result[f"total_{name}"] = sum(p[position] for p in curve)
        result[f"baseline_{name}"] = sum(p[position] for p in baseline)
        result[f"ratio_{name}"] = result[f"total_{name}"] / result[f"baseline_{name}"]
        result[f"first_{name}"] = median(p[position] for p in curve[:window])
        result[f"last_{name}"] = median(p[position] for p in curve[-window:])
        result[f"flat_{name}"] = result[f"last_{name}"] / result[f"first_{name}"]
    return result


def print_growth(kind, sizes, result):
    ours, odoo = result["ours"], result["odoo"]
    rows = [
        (
            f"{size} units",
            f"pico_mes {ours[i][0] * 1000:.0f} ms ({ours[i][2] * 1000:.0f} CPU), "
            f"{ours[i][1]:.0f} queries; Odoo {odoo[i][0] * 1000:.0f} ms "
            f"({odoo[i][2] * 1000:.0f} CPU), {odoo[i][1]:.0f} queries",
        )
        for i, size in enumerate(sizes)
    ]
    largest = sizes[-1]
    for position, name in ((0, "time"), (1, "queries")):
        growth_ratio = ours[-1][position] / ours[0][position]
        target = f" (target <= {SIZE_TARGET})" if kind == "serial" else ""
        rows.append(
            (
                f"pico_mes, {largest} / {sizes[0]} units, {name}",
                f"{growth_ratio:.2f}{target}",
            )
        )
        rows.append(
            (
                f"Odoo, {largest} / {sizes[0]} units, {name}",
                f"{odoo[-1][position] / odoo[0][position]:.2f}",
            )
        )
        rows.append(
            (
                f"{largest} units, pico_mes / Odoo, {name}",
                f"{ours[-1][position] / odoo[-1][position]:.2f}",
            )
        )
    report(
        f"Growth, {kind}: the first unit of a fresh MO, pico_mes and Odoo's "
        "per-unit path (fastest of the rounds)",
        rows,
    )


def print_whole(kind, result):
    units = result["units"]
    report(
        f"A whole {units}-unit {kind} MO completed unit by unit, against "
        f"{units} units of {BASE_SIZE}-unit MOs",
        [
            (
                f"{units}-unit MO",
                f"{result['total_seconds']:.1f} s, {result['total_queries']} queries",
            ),
            (
                f"{units // BASE_SIZE} MOs of {BASE_SIZE}",
                f"{result['baseline_seconds']:.1f} s, "
                f"{result['baseline_queries']} queries",
            ),
            (
                "ratio time",
                f"{result['ratio_seconds']:.2f} (target <= {WHOLE_TARGET})",
            ),
            (
                "ratio queries",
                f"{result['ratio_queries']:.2f} (target <= {WHOLE_TARGET})",
            ),
            ("ratio CPU time of this process", f"{result['ratio_cpu']:.2f}"),
            (
                f"ratio time, last / first {result['window']} units",
                f"{result['flat_seconds']:.2f} (target <= {FLAT_TARGET})",
            ),
            (
                f"ratio queries, last / first {result['window']} units",
                f"{result['flat_queries']:.2f} (target <= {FLAT_TARGET})",
            ),
        ],
    )


def main():
    args = parse_args(
        __doc__,
        sizes=(str, "5,50,100,250,500", "MO sizes of the growth curves"),
        kinds=(str, ",".join(KINDS), "kinds of the growth curves"),
        rounds=(int, 2, "rounds of the growth curves (the fastest)"),
        whole_units=(int, 500, "units of the whole MO (0: none)"),
        whole_kinds=(str, "serial", "kinds completed as a whole MO"),
        json=(str, "", "also write the results as JSON to this file"),
    )
    sizes = [int(size) for size in args.sizes.split(",") if size]
    kinds = [kind for kind in args.kinds.split(",") if kind]
    whole_kinds = [kind for kind in args.whole_kinds.split(",") if kind]
    sim = start_simulator()
    try:
        with odoo_env(args) as env:
            company = enable_pico(env, sim)
            kits = make_kits(env)
            env["pico.operation"]._pico_sync_company(company, full=True)
            for kit in kits.values():  # a database may hold products of these codes
                kit.map_to_operation(company)
            kits["serial"].stock_serials(
                max(sizes, default=0) + args.whole_units + 4 * BASE_SIZE
            )
            curves = growth(kits, kinds, sizes, args.rounds) if sizes else {}
            whole = {
                kind: whole_order(kits[kind], args.whole_units)
                for kind in whole_kinds
                if args.whole_units
            }
            per_mo = company.pico_serial_units_per_mo
    finally:
        sim.stop()
    for kind, result in curves.items():
        print_growth(kind, sizes, result)
    for kind, result in whole.items():
        print_whole(kind, result)
    if args.json:
        with open(args.json, "w") as output:
            json.dump(
                {
                    "sizes": sizes,
                    "curves": curves,
                    "whole": whole,
                    "serial_units_per_mo": per_mo,
                    "targets": {
                        "size": SIZE_TARGET,
                        "whole": WHOLE_TARGET,
                        "flat": FLAT_TARGET,
                    },
                },
                output,
            )
    sys.stdout.flush()


if __name__ == "__main__":
    main()

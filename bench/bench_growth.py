"""Cost as the work grows: complete every unit of one MO, unit by unit.

Each completion closes the MO holding the unit and moves the rest to a
backorder, so the chain grows by one MO per unit. The time and SQL queries of
the last units are compared with those of the first ones (medians of a tenth of
the units each); each of the last units is measured in alternation with the
second unit of a fresh MO of the same size, so that the machine's drift weighs
on both sides alike; target: at most 1.2.
Runs in one transaction, rolled back.
"""

import json
import sys
from datetime import UTC, datetime
from statistics import median

from bench_inbound import receive
from harness import Meter, enable_pico, odoo_env, parse_args, report, simulator
from products import desk_lamp, make_mo, sensor_kit

TARGET = 1.2


KINDS = {  # product, its PICO operation
    "untracked": ("PICO-SENSOR", "op-sensor-kit"),
    "serial": ("PICO-LAMP", "op-desk-lamp"),
}


def completion(ref, kind, index, driver_lot=None):
    at = datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    event = {
        "externalOrderId": ref,
        "operation": {"id": KINDS[kind][1]},
        "orderIndex": index,
        "at": at,
    }
    if driver_lot:
        event["endState"] = {"producedSerial": f"GROWTH-{ref}-{index}"}
        event["operationSummary"] = {
            "consumedSerials": [
                {"externalId": "PICO-LED-DRIVER", "value": driver_lot.name}
            ]
        }
    return event


def ready_product(env, kind, units):
    """The product mapped to its PICO operation: the database's, else made here."""
    code = KINDS[kind][0]
    product = env["product.product"].search([("default_code", "=", code)])
    if product and env.company.pico_enabled:
        return product, None
    sim = simulator().__enter__()
    company = enable_pico(env, sim)
    product = sensor_kit(env) if kind == "untracked" else desk_lamp(env, units)[0]
    env["pico.operation"]._pico_sync_company(company, full=True)
    return product, sim


def driver_lots(env, units):
    """Serials of the tracked component in stock, one per unit (made if short)."""
    quants = env["stock.quant"].search(
        [
            ("product_id.default_code", "=", "PICO-LED-DRIVER"),
            ("location_id.usage", "=", "internal"),
            ("quantity", ">", 0),
        ],
        order="lot_id desc",
        limit=units,
    )
    lots = quants.lot_id
    missing = units - len(lots)
    if missing > 0:
        driver = env["product.product"].search(
            [("default_code", "=", "PICO-LED-DRIVER")], limit=1
        )
        location = env.ref("stock.stock_location_stock")
        extra = env["stock.lot"].create(
            [
                {"name": f"GROWTH-DRV-{n:05d}", "product_id": driver.id}
                for n in range(missing)
            ]
        )
        for lot in extra:
            env["stock.quant"]._update_available_quantity(
                driver, location, 1, lot_id=lot
            )
        lots |= extra
    return lots


def window_of(units):
    return max(5, units // 10)


def measure(env, units, kind):
    """The curve of one MO completed unit by unit, and, for its last units, the
    same unit cost at the start of a chain measured in alternation (a fresh MO
    of the same size per pair, its unit 0 as warm-up): the machine's drift
    then weighs on both sides alike."""
    product, sim = ready_product(env, kind, units)
    window = window_of(units)
    try:
        lots = iter(driver_lots(env, units + 2 * window) if kind == "serial" else [])
        chain = Chain(env, product, units, kind, lots)
        curve = [chain.complete_next() for _index in range(units - window)]
        first = []
        for _pair in range(window):
            fresh = Chain(env, product, units, kind, lots)
            fresh.complete_next()
            first.append(fresh.complete_next())
            curve.append(chain.complete_next())
    finally:
        if sim:
            sim.stop()
    return curve, first


class Chain:
    """One confirmed MO whose units are completed in order."""

    def __init__(self, env, product, units, kind, lots):
        self.env, self.kind, self.lots, self.index = env, kind, lots, 0
        production = make_mo(env, product, units)
        production.action_confirm()
        self.ref = production.pico_order_ref

    def complete_next(self):
        lot = next(self.lots) if self.kind == "serial" else None
        event = completion(self.ref, self.kind, self.index, lot)
        self.index += 1
        with Meter(self.env) as meter:
            messages, _duplicates = receive(self.env, event)
        assert messages.state == "done", messages.error
        return meter.seconds, meter.queries


def summary(curve, first):
    window = len(first)
    last = curve[-window:]
    result = {"units": len(curve), "window": window, "target": TARGET}
    for position, name in ((0, "seconds"), (1, "queries")):
        result[f"first_{name}"] = median(point[position] for point in first)
        result[f"last_{name}"] = median(point[position] for point in last)
        result[f"ratio_{name}"] = result[f"last_{name}"] / result[f"first_{name}"]
    result["curve"] = curve
    return result


def main():
    args = parse_args(
        __doc__,
        units=(int, 500, "units of the MO"),
        kind=(str, "untracked", "untracked or serial (with a serial component)"),
        json=(str, "", "also write the result as JSON to this file"),
    )
    with odoo_env(args) as env:
        result = summary(*measure(env, args.units, args.kind))
        result["kind"] = args.kind
    step = max(1, args.units // 10)
    report(
        f"Completing a {args.units}-unit {args.kind} MO unit by unit"
        " (one backorder per unit)",
        [
            (f"unit {i}", f"{s * 1000:.0f} ms, {q} queries")
            for i, (s, q) in list(enumerate(result["curve"]))[::step]
        ]
        + [
            (
                "ratio time, last / first units",
                f"{result['ratio_seconds']:.2f} (target <= {TARGET})",
            ),
            (
                "ratio queries, last / first units",
                f"{result['ratio_queries']:.2f} (target <= {TARGET})",
            ),
        ],
    )
    if args.json:
        with open(args.json, "w") as output:
            json.dump(result, output)
    sys.stdout.flush()


if __name__ == "__main__":
    main()

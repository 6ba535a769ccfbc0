"""Cost as the work grows: complete every unit of one MO, unit by unit.

Each completion closes the MO holding the unit and moves the rest to a
backorder, so the chain grows by one MO per unit. The time and SQL queries of
the last units are compared with those of the first ones (medians of a tenth of
the units each, the very first unit left out as warm-up); target: at most 1.2.
Runs in one transaction, rolled back.
"""

import json
import sys
from datetime import UTC, datetime
from statistics import median

from bench_inbound import receive
from harness import Meter, enable_pico, odoo_env, parse_args, report, simulator
from products import make_mo, sensor_kit

TARGET = 1.2


def completion(ref, index):
    at = datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    return {
        "externalOrderId": ref,
        "operation": {"id": "op-sensor-kit"},
        "orderIndex": index,
        "at": at,
    }


def ready_product(env):
    """PICO-SENSOR mapped to its PICO operation: the database's, else made here."""
    sensor = env["product.product"].search([("default_code", "=", "PICO-SENSOR")])
    if sensor and env.company.pico_enabled:
        return sensor, None
    sim = simulator().__enter__()
    company = enable_pico(env, sim)
    sensor = sensor_kit(env)
    env["pico.operation"]._pico_sync_company(company, full=True)
    return sensor, sim


def measure(env, units):
    sensor, sim = ready_product(env)
    try:
        production = make_mo(env, sensor, units)
        production.action_confirm()
        ref = production.pico_order_ref
        curve = []
        for index in range(units):
            with Meter(env) as meter:
                messages, _duplicates = receive(env, completion(ref, index))
            assert messages.state == "done", messages.error
            curve.append((meter.seconds, meter.queries))
    finally:
        if sim:
            sim.stop()
    return curve


def summary(curve):
    window = max(5, len(curve) // 10)
    first, last = curve[1 : 1 + window], curve[-window:]
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
        json=(str, "", "also write the result as JSON to this file"),
    )
    with odoo_env(args) as env:
        result = summary(measure(env, args.units))
    step = max(1, args.units // 10)
    report(
        f"Completing a {args.units}-unit MO unit by unit (one backorder per unit)",
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

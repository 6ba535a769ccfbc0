"""A burst of completions through the webhook route: Odoo in prefork mode
(``--workers=2``, as production runs it) against the threaded server, on the
same database and data, in alternating rounds.

It builds its own stack with the reliability suite's tools (its own database
``pico_bench_http`` and ports around 8159): the prefork server, the simulator,
8 concurrent senders posting untracked-unit completions as PICO does.
"""

import argparse
import os
import sys
from pathlib import Path

os.environ.setdefault("PICO_RELIABILITY_DB", "pico_bench_http")
os.environ.setdefault("PICO_RELIABILITY_PORT", "8159")
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from reliability.stack import (  # noqa: E402
    Stack,
    _port_busy,
    prefork_odoo,
    send_concurrently,
    unit_events,
    wait_until,
)

from demo.stack import odoo_server  # noqa: E402

SENDERS = 8
UNITS_PER_MO = 10
TARGET = 0.8  # prefork keeps at least this share of the threaded rate


def burst(stack, completions):
    """Completions/s of one burst, once every event is processed."""
    mos = max(1, completions // UNITS_PER_MO)
    _ids, refs = stack.confirmed_mos({"PICO-SENSOR": [UNITS_PER_MO] * mos})
    events = unit_events(stack, refs)
    deliveries = send_concurrently(stack, events, SENDERS)
    stack.inbound_settled(timeout=1800)
    if deliveries.statuses != {200: len(events)}:
        sys.exit(f"the burst was not answered 200 throughout: {deliveries.statuses}")
    return len(events) / deliveries.seconds


def use(stack, server):
    """Serve the same database with ``server`` from now on."""
    stack.odoo.stop()
    port = stack.config.odoo_port
    wait_until(lambda: not _port_busy(port), 60, f"port {port} freed")
    stack.odoo = server
    stack.odoo.start()


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--config", help="unused: this benchmark builds its own")
    parser.add_argument("--db", help="unused: this benchmark builds its own")
    parser.add_argument("--completions", type=int, default=500)
    parser.add_argument("--rounds", type=int, default=2, help="rounds per mode")
    args = parser.parse_args()
    per_round = max(UNITS_PER_MO, args.completions // args.rounds)
    stack = Stack().build()
    rates = {"prefork": [], "threaded": []}
    try:
        for _round in range(args.rounds):
            for mode, server in (
                ("prefork", prefork_odoo(stack.config)),
                ("threaded", odoo_server(stack.config)),
            ):
                use(stack, server)
                rates[mode].append(burst(stack, per_round))
    finally:
        stack.stop()
    prefork, threaded = (sum(r) / len(r) for r in rates.values())
    total = per_round * args.rounds
    print(f"HTTP burst: {total} completions per mode, {SENDERS} senders")
    print(f"  prefork (--workers=2), completions/s      {prefork:.1f}")
    print(f"  threaded (--workers=0), completions/s     {threaded:.1f}")
    print(f"  prefork / threaded rate                   {prefork / threaded:.2f} "
          f"(target >= {TARGET})")  # fmt: skip


if __name__ == "__main__":
    main()

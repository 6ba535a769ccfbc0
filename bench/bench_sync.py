"""Sync 10,000 PICO operations from the simulator into the catalog.

Baseline (same run): fetching and decoding the same operations over HTTP with the
addon's client, without touching the database. Target: under 0.05 SQL queries per
operation.
"""

import time

from harness import Meter, enable_pico, odoo_env, parse_args, report, simulator


def main():
    args = parse_args(__doc__, operations=(int, 10000, "operations to sync"))
    from pico_sim import generate_operations

    with (
        simulator(seed=generate_operations(args.operations)) as sim,
        odoo_env(args) as env,
    ):
        company = enable_pico(env, sim)
        Operation = env["pico.operation"]
        fetch = fetch_seconds(env, company)
        with Meter(env) as first:
            created, _updated = Operation._pico_sync_company(company, full=True)
        changed = args.operations // 10
        for op in generate_operations(args.operations)[:changed]:
            sim.upsert_operation({"id": op["id"], "name": op["name"] + " v2"})
        with Meter(env) as again:
            _created, updated = Operation._pico_sync_company(company)
        report(
            f"Sync of {created} PICO operations",
            [
                (
                    "full sync",
                    f"{first.seconds:.2f} s, {created / first.seconds:,.0f} ops/s",
                ),
                (
                    "SQL queries per operation",
                    f"{first.queries / created:.4f} (target < 0.05)",
                ),
                ("HTTP fetch alone (baseline)", f"{fetch:.2f} s"),
                ("full sync / fetch alone", f"{first.seconds / fetch:.2f}"),
                (
                    f"incremental sync of {updated} changed",
                    f"{again.seconds:.2f} s, {again.queries} queries "
                    f"({again.queries / max(updated, 1):.4f} per operation)",
                ),
            ],
        )
        assert first.queries / created < 0.05, "too many queries per operation"


def fetch_seconds(env, company):
    from odoo.addons.pico_mes.services import documents

    client = company._pico_client()
    start = time.perf_counter()
    client.execute(documents.OPERATIONS, {"where": {}})
    client.close()
    return time.perf_counter() - start


if __name__ == "__main__":
    main()

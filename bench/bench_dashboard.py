"""The planners' dashboard with 100,000 units in the database.

A month of a floor is written with SQL (rolled back at the end): 20,000 MOs of
five units each, 100,000 units (nine in ten built over the last 30 days, the
rest queued, sent, in progress, failed or cancelled), two timed processes per
built unit on the BoM operations of two products, an inbound message per
completion. Then, taking turns, the server side of opening each screen as the
web client does, every cache emptied first:

- the dashboard: its cards with their figures and pictures (``web_search_read``),
  and the read groups of its pictures (completions per hour and product, units
  in progress by station and product, the pivot of PICO's median time against
  the expected time per BoM operation: its total and each level of its rows);
- the baseline: the plain list of MOs of the same database (``web_search_read``
  of its first 80 rows with the list view's fields, and their count).
"""

from statistics import median

from harness import Meter, enable_pico, odoo_env, parse_args, report, simulator
from products import desk_lamp, make_mo, sensor_kit

UNITS_PER_MO = 5
MEASURE_ROUNDS = 7


def main():
    args = parse_args(__doc__, units=(int, 100000, "PICO units in the database"))
    with simulator() as sim, odoo_env(args) as env:
        company = enable_pico(env, sim)
        env["pico.operation"]._pico_sync_company(company, full=True)
        products = setup_products(env)
        fill(env, company, products, args.units)
        dashboard, baseline = compare(env)
    (dash_s, dash_q), (base_s, base_q) = dashboard, baseline
    report(
        f"The PICO dashboard with {args.units:,} units / the MO list, same database",
        [
            ("dashboard: cards and pictures", f"{dash_s * 1000:.0f} ms, {dash_q} q"),
            (
                "MO list, 80 rows and count (baseline)",
                f"{base_s * 1000:.0f} ms, {base_q} q",
            ),
            ("dashboard / MO list, time", f"{dash_s / base_s:.2f} (target <= 1.5)"),
        ],
    )


def setup_products(env):
    """The lamp and the sensor kit, each with a two-step routing."""
    lamp, _driver, _lots = desk_lamp(env, serials=1)
    sensor = sensor_kit(env)
    center = env["mrp.workcenter"].create({"name": "Bench Floor"}).id
    found = {}
    routings = {
        lamp: (("Assembly", 20), ("Test", 10)),
        sensor: (("Soldering", 8), ("Calibration", 6)),
    }
    for product, steps in routings.items():
        operation = env["pico.operation"].search(
            [("external_id", "=", product.default_code)], limit=1
        )
        bom = env["mrp.bom"]._bom_find(product)[product]
        bom.operation_ids = [
            (0, 0, {"name": name, "workcenter_id": center, "time_cycle_manual": mins})
            for name, mins in steps
        ]
        bom.operation_ids.pico_process_id = operation  # times of the whole unit
        found[product] = (operation, bom.operation_ids, make_mo(env, product, 1))
    return found


def fill(env, company, products, units):
    """MOs cloned from a template, their units, processes and messages (SQL)."""
    cr = env.cr
    env.flush_all()
    mos = units // UNITS_PER_MO
    columns = [
        name
        for (name,) in _rows(
            cr,
            "SELECT column_name FROM information_schema.columns"
            " WHERE table_name = 'mrp_production' AND column_name NOT IN"
            " ('id', 'name', 'pico_order_ref', 'pico_state')",
        )
    ]
    listed = ", ".join(f'"{c}"' for c in columns)
    mo_ids = {}
    for parity, (product, (_op, _routing, template)) in enumerate(products.items()):
        cr.execute(
            f"INSERT INTO mrp_production ({listed}, name, pico_order_ref, pico_state)"  # noqa: S608
            f" SELECT {listed}, 'BENCH/' || g, 'BENCH:BENCH/' || g,"
            "  CASE WHEN g %% 500 = 0 THEN 'error' ELSE 'in_progress' END"
            " FROM mrp_production, generate_series(%s, %s, 2) g WHERE id = %s"
            " RETURNING id",
            (parity, mos - 1, template.id),
        )
        mo_ids[product] = [row[0] for row in cr.fetchall()]
    for product, (operation, routing, _template) in products.items():
        fill_units(cr, company, product, operation, routing, mo_ids[product])
    cr.execute("ANALYZE mrp_production, pico_unit, pico_unit_process, pico_message")
    env.invalidate_all()


def fill_units(cr, company, product, operation, routing, mo_ids):
    """UNITS_PER_MO units per MO; nine in ten built in the last 30 days."""
    cr.execute(
        """
        WITH unit AS (
            SELECT g AS n, (%(mos)s::int[])[g / %(per)s + 1] AS mo, g %% %(per)s AS idx,
                   CASE WHEN g %% 100 < 90 THEN 'done'
                        WHEN g %% 100 < 92 THEN 'in_progress'
                        WHEN g %% 100 < 95 THEN 'sent'
                        WHEN g %% 100 < 97 THEN 'queued'
                        WHEN g %% 100 < 99 THEN 'cancelled'
                        ELSE 'failed' END AS state,
                   (NOW() AT TIME ZONE 'UTC') - random() * INTERVAL '30 days' AS at
              FROM generate_series(0, cardinality(%(mos)s::int[]) * %(per)s - 1) g
        )
        INSERT INTO pico_unit (external_order_id, operation_id, operation_pico_id,
            order_index, production_id, company_id, state, product_id, completed_at,
            station, create_date, write_date)
        SELECT 'BENCH:' || mo, %(operation)s, %(pico_id)s, idx, mo, %(company)s,
               state, %(product)s, CASE WHEN state = 'done' THEN at END,
               CASE WHEN state IN ('done', 'in_progress')
                    THEN 'Station ' || (n %% 4 + 1) END,
               NOW(), NOW()
          FROM unit
        """,
        {
            "mos": mo_ids,
            "per": UNITS_PER_MO,
            "operation": operation.id,
            "pico_id": operation.pico_id,
            "company": company.id,
            "product": product.id,
        },
    )
    for step, bom_operation in enumerate(routing):
        cr.execute(
            """
            INSERT INTO pico_unit_process (unit_id, product_id, process_pico_id,
                bom_operation_id, station, operator, started_at, completed_at,
                cycle_time, company_id, create_date, write_date)
            SELECT u.id, u.product_id, %(process)s, %(operation)s, u.station, 'Ana',
                   u.completed_at - INTERVAL '10 minutes', u.completed_at,
                   %(minutes)s * exp(random() * 0.4 - 0.2), u.company_id, NOW(), NOW()
              FROM pico_unit u
             WHERE u.product_id = %(product)s AND u.state = 'done'
            """,
            {
                "process": f"op-bench-{bom_operation.id}",
                "operation": bom_operation.id,
                "minutes": bom_operation.time_cycle_manual * (1 + 0.3 * step),
                "product": product.id,
            },
        )
    cr.execute(
        """
        INSERT INTO pico_message (direction, kind, state, company_id, order_ref,
            dedup_key, attempts, create_date, write_date)
        SELECT 'in', 'completion',
               CASE WHEN u.id %% 1000 = 0 THEN 'unmatched' ELSE 'done' END,
               u.company_id, u.external_order_id,
               u.external_order_id || '|' || u.order_index, 1, NOW(), NOW()
          FROM pico_unit u
         WHERE u.product_id = %s AND u.state = 'done'
        """,
        (product.id,),
    )


def _rows(cr, query):
    cr.execute(query)
    return cr.fetchall()


def compare(env):
    """Taking turns, every cache emptied: the dashboard, then the MO list."""
    mo_list = mo_list_specification(env)
    dashboard, baseline = [], []
    for round_ in range(MEASURE_ROUNDS):
        for side in ("dashboard", "list") if round_ % 2 else ("list", "dashboard"):
            env.invalidate_all()
            with Meter(env) as meter:
                if side == "dashboard":
                    load_dashboard(env)
                else:
                    load_mo_list(env, mo_list)
            (dashboard if side == "dashboard" else baseline).append(meter)
    return summary(dashboard[1:]), summary(baseline[1:])  # the first warms up


def load_dashboard(env):
    """What the web client asks when it opens the dashboard."""
    cards = env["pico.dashboard.card"].web_search_read(
        [],
        {
            name: {}
            for name in ("name", "description", "count", "color", "code", "picture")
        },
    )["records"]
    assert any(card["count"] for card in cards), cards
    for card in cards:
        picture = card["picture"]
        if not picture:
            continue
        Model = env[picture["res_model"]].with_context(**picture["context"])
        view = env["ir.ui.view"].browse(picture["view_id"])
        fields = [f for f in view_fields(view.arch) if f not in MEASURES]
        if picture["view_type"] == "graph":
            Model._read_group(picture["domain"], fields, ["__count"])
        else:  # the pivot: the total, then each level of its rows
            measures = [f"{m}:{Model._fields[m].aggregator}" for m in MEASURES]
            for depth in range(len(fields) + 1):
                Model._read_group(
                    picture["domain"], fields[:depth], ["__count", *measures]
                )


MEASURES = ("median_time", "expected_time", "variance", "time_count")


def load_mo_list(env, specification):
    """The MO list: its first 80 rows with the list view's fields, and the count."""
    result = env["mrp.production"].web_search_read(
        [], specification, limit=80, count_limit=10001
    )
    assert result["length"] > 10000, result["length"]


def mo_list_specification(env):
    arch = env["mrp.production"].get_views([(False, "list")])["views"]["list"]["arch"]
    fields = env["mrp.production"]._fields
    return {
        name: {"fields": {"display_name": {}}} if fields[name].relational else {}
        for name in view_fields(arch)
        if name in fields and fields[name].type != "one2many"
    }


def view_fields(arch):
    from lxml import etree

    root = etree.fromstring(arch)
    return list(dict.fromkeys(node.get("name") for node in root.iterchildren("field")))


def summary(meters):
    return median(m.seconds for m in meters), median(m.queries for m in meters)


if __name__ == "__main__":
    main()

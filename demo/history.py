"""A day of the floor's history for the demo, loaded inside Odoo (``demo.data``).

Manufacturing orders of the three products, confirmed and sent to PICO as any
order is; the simulator then builds them over the last 24 hours
(``POST /control/history``: minutes of work per process, several stations and
operators, a slow unit now and then) and leaves a few units on the floor; Odoo
takes the completions through its reconciliation, as it would after missing
their webhooks. So the dashboard, the cycle times and the work orders' time
tabs have a day to show the first time they are opened. Loaded once.
"""

from datetime import timedelta

from odoo import fields

HISTORY_ORIGIN = "PICO demo: the last 24 hours"
HOURS = 24
# (part number, units per order, orders): 24 lamps, 30 sensor kits, 12 control boxes
ORDERS = (("PICO-LAMP", 6, 4), ("PICO-SENSOR", 10, 3), ("PICO-CTRL", 4, 3))
IN_PROGRESS = 4  # units left on the floor, finished live a few minutes later


def preload(env, products, control):
    """Build the day's orders, once; ``control(path, body)`` posts to PICO's
    control API."""
    Production = env["mrp.production"]
    if Production.search_count([("origin", "=", HISTORY_ORIGIN)]):
        return
    started = fields.Datetime.now() - timedelta(hours=HOURS)
    productions = Production.create(
        [
            {
                "product_id": products[code].id,
                "product_qty": quantity,
                "origin": HISTORY_ORIGIN,
                "date_start": started + timedelta(hours=HOURS * number / orders),
            }
            for code, quantity, orders in ORDERS
            for number in range(orders)
        ]
    )
    productions.action_confirm()
    env["pico.message"]._cron_dispatch()
    env.cr.commit()  # pylint: disable=invalid-commit
    control(
        "history",
        {
            "externalOrderIds": productions.mapped("pico_order_ref"),
            "hours": HOURS,
            "inProgress": IN_PROGRESS,
        },
    )
    env["pico.reconciliation"]._reconcile_company(env.company)
    env.cr.commit()  # pylint: disable=invalid-commit

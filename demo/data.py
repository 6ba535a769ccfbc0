"""The demo's data, loaded inside Odoo by ``odoo-bin shell`` (see ``demo.stack``).

Products, bills of materials, stock, the admin's rights and the company's PICO
connection, then a draft manufacturing order to confirm. Idempotent: products are
looked up by internal reference and BoMs by product before anything is created,
and stock is counted in only when its product is created.
"""

from dataclasses import dataclass

from odoo import Command

from odoo.addons.pico_mes import compat

DEMO_ORIGIN = "PICO demo"


@dataclass(frozen=True)
class Part:
    code: str
    name: str
    tracking: str = "none"
    stock: int = 0


PARTS = (
    Part("PICO-LAMP", "Desk Lamp", tracking="serial"),
    Part("PICO-SENSOR", "Sensor Kit"),
    Part("PICO-CTRL", "Control Box"),
    Part("PICO-LED-DRIVER", "LED Driver", "serial", stock=20),
    Part("PICO-PCB", "PCB", "serial", stock=20),
    Part("PICO-SCREW", "Screw", stock=500),
    Part("PICO-SHADE", "Shade", stock=100),
    Part("PICO-BOARD", "Sensor Board", stock=100),
    Part("PICO-HOUSING", "Housing", stock=100),
)
BOMS = {
    "PICO-LAMP": (("PICO-LED-DRIVER", 1), ("PICO-SCREW", 2), ("PICO-SHADE", 1)),
    "PICO-SENSOR": (("PICO-BOARD", 1), ("PICO-SCREW", 4)),
    "PICO-CTRL": (("PICO-PCB", 1), ("PICO-HOUSING", 1)),
}
DRAFT_ORDER = ("PICO-SENSOR", 2)
# The Desk Lamp is built in two PICO processes; its BoM routing maps to them, so
# that a demo MO shows PICO's real times and costs on its work orders.
WORKCENTERS = (("Assembly Bench", 60.0, "Station 1"), ("Test Bench", 90.0, "Station 2"))
ROUTINGS = {
    "PICO-LAMP": (
        ("op-lamp-assembly", "Assembly", "Assembly Bench", 20.0),
        ("op-lamp-test", "Test", "Test Bench", 10.0),
    ),
}
PICO_PRODUCTS = {"PICO-LAMP": "op-desk-lamp"}


def load(env, api_url, token, base_url, public_url=None):
    """Load everything the demo needs and connect the company to PICO.

    ``api_url`` and ``token`` reach the simulator; ``base_url`` is Odoo's address
    for people, ``public_url`` (optional) the one PICO posts its webhooks to.
    """
    warehouse = env["stock.warehouse"].search(
        [("company_id", "=", env.company.id)], limit=1
    )
    products = {part.code: ensure_product(env, part, warehouse) for part in PARTS}
    for code, lines in BOMS.items():
        ensure_bom(env, products[code], [(products[c], qty) for c, qty in lines])
    add_pico_processes(api_url, token)
    workcenters = {spec[0]: ensure_workcenter(env, *spec) for spec in WORKCENTERS}
    for code, steps in ROUTINGS.items():
        ensure_routing(env, products[code], steps, workcenters)
    warehouse.manu_type_id.use_create_components_lots = True
    grant_admin_rights(env)
    env["ir.config_parameter"].set_param("web.base.url", base_url)
    connect_pico(env.company, api_url, token, public_url)
    code, quantity = DRAFT_ORDER
    ensure_draft_order(env, products[code], quantity)
    env.cr.commit()  # pylint: disable=invalid-commit


def ensure_product(env, part, warehouse):
    product = env["product.product"].search([("default_code", "=", part.code)])
    if product:
        return product
    product = env["product.product"].create(
        {
            "name": part.name,
            "default_code": part.code,
            "is_storable": True,
            "tracking": part.tracking,
        }
    )
    if part.stock:
        count_in_stock(env, product, part, warehouse.lot_stock_id)
    return product


def count_in_stock(env, product, part, location):
    """An inventory adjustment: the part's stock, one quant per serial if tracked.

    Serials are named as the simulator generates the ones it scans
    (PICO-LED-DRIVER-00001, ...), so that PICO consumes the serials in stock.
    """
    if part.tracking == "serial":
        lots = env["stock.lot"].create(
            [
                {"name": f"{part.code}-{n:05d}", "product_id": product.id}
                for n in range(1, part.stock + 1)
            ]
        )
        quantities = [(lot, 1) for lot in lots]
    else:
        quantities = [(env["stock.lot"], part.stock)]
    Quant = env["stock.quant"].with_context(inventory_mode=True)
    quants = Quant.create(
        [
            {
                "product_id": product.id,
                "location_id": location.id,
                "lot_id": lot.id,
                "inventory_quantity": quantity,
            }
            for lot, quantity in quantities
        ]
    )
    quants.action_apply_inventory()


def ensure_bom(env, product, lines):
    template = product.product_tmpl_id
    if env["mrp.bom"].search_count([("product_tmpl_id", "=", template.id)]):
        return
    env["mrp.bom"].create(
        {
            "product_tmpl_id": template.id,
            "product_qty": 1,
            "bom_line_ids": [
                Command.create({"product_id": component.id, "product_qty": quantity})
                for component, quantity in lines
            ],
        }
    )


def add_pico_processes(api_url, token):
    """Declare the routed products' processes in the simulator (its control API)."""
    import requests

    base = api_url.rsplit("/graph", 1)[0]
    headers = {"x-pico-api-org": token}
    for code, steps in ROUTINGS.items():
        for pico_id, name, _workcenter, _minutes in steps:
            for path, body in (
                ("operations", {"id": pico_id, "name": name}),
                ("sub_operations", {"parentId": PICO_PRODUCTS[code], "subId": pico_id}),
            ):
                response = requests.post(
                    f"{base}/control/{path}", json=body, headers=headers, timeout=10
                )
                response.raise_for_status()


def ensure_workcenter(env, name, costs_hour, stations):
    Workcenter = env["mrp.workcenter"]
    workcenter = Workcenter.search([("name", "=", name)], limit=1)
    return workcenter or Workcenter.create(
        {"name": name, "costs_hour": costs_hour, "pico_station_names": stations}
    )


def ensure_routing(env, product, steps, workcenters):
    """The BoM's operations, once; the catalog sync maps them to PICO's processes."""
    bom = env["mrp.bom"].search(
        [("product_tmpl_id", "=", product.product_tmpl_id.id)], limit=1
    )
    if bom.operation_ids:
        return
    bom.operation_ids = [
        Command.create(
            {
                "name": name,
                "workcenter_id": workcenters[workcenter].id,
                "time_cycle_manual": minutes,
            }
        )
        for _pico_id, name, workcenter, minutes in steps
    ]


def grant_admin_rights(env):
    """Lots and serials shown to everyone; admin manages manufacturing and PICO."""
    implied = env.ref("base.group_user").implied_ids
    wanted = {
        "group_stock_production_lot": env.ref("stock.group_production_lot"),
        "group_mrp_routings": env.ref("mrp.group_mrp_routings"),
    }
    missing = {name: True for name, group in wanted.items() if group not in implied}
    if missing:
        env["res.config.settings"].create(missing).execute()
    for xmlid in ("mrp.group_mrp_manager", "pico_mes.group_pico_manager"):
        compat.add_group_users(env.ref(xmlid), env.ref("base.user_admin"))


def connect_pico(company, api_url, token, public_url):
    """Point the company at PICO, sync its operations and register the webhooks."""
    company.write(
        {
            "pico_enabled": True,
            "pico_api_url": api_url,
            "pico_api_token": token,
            "pico_public_url": public_url or False,
        }
    )
    company.env["pico.operation"]._pico_sync_company(company, full=True)
    company._pico_register_webhooks()


def ensure_draft_order(env, product, quantity):
    """The manufacturing order left for a person to confirm, created once."""
    Production = env["mrp.production"]
    if Production.search_count([("origin", "=", DEMO_ORIGIN)]):
        return
    Production.create(
        {"product_id": product.id, "product_qty": quantity, "origin": DEMO_ORIGIN}
    )

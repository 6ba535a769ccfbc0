"""The demo's data, loaded inside Odoo by ``odoo-bin shell`` (see ``demo.stack``).

Products, bills of materials, stock, the admin's rights and the company's PICO
connection, then a draft manufacturing order to confirm. Idempotent: products are
looked up by internal reference and BoMs by product before anything is created,
and stock is counted in only when its product is created.
"""

from dataclasses import dataclass

from odoo import Command

from odoo.addons.pico_mes import compat

from . import history

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
    Part("PICO-LED-DRIVER", "LED Driver", "serial", stock=100),
    Part("PICO-PCB", "PCB", "serial", stock=60),
    Part("PICO-SCREW", "Screw", stock=2000),
    Part("PICO-SHADE", "Shade", stock=300),
    Part("PICO-BOARD", "Sensor Board", stock=300),
    Part("PICO-HOUSING", "Housing", stock=200),
)
BOMS = {
    "PICO-LAMP": (("PICO-LED-DRIVER", 1), ("PICO-SCREW", 2), ("PICO-SHADE", 1)),
    "PICO-SENSOR": (("PICO-BOARD", 1), ("PICO-SCREW", 4)),
    "PICO-CTRL": (("PICO-PCB", 1), ("PICO-HOUSING", 1)),
}
DRAFT_ORDER = ("PICO-SENSOR", 2)
# Each product is built in two PICO processes; its BoM routing maps to them, so
# that an MO shows PICO's real times and costs on its work orders. Odoo expects
# the minutes of ROUTINGS; the floor takes those of FLOOR (PICO's typical time,
# on these stations): the Desk Lamp's assembly and the Control Box's wiring take
# longer than planned, and the dashboard and their BoMs say so.
WORKCENTERS = (
    ("Assembly Bench", 60.0, "Assembly 1, Assembly 2"),
    ("Soldering Station", 75.0, "Solder 1"),
    ("Test Bench", 90.0, "Test 1, Test 2"),
)
ROUTINGS = {
    "PICO-LAMP": (
        ("op-lamp-assembly", "Assembly", "Assembly Bench", 20.0),
        ("op-lamp-test", "Test", "Test Bench", 10.0),
    ),
    "PICO-SENSOR": (
        ("op-proc-solder", "Soldering", "Soldering Station", 8.0),
        ("op-sensor-calibration", "Calibration", "Test Bench", 6.0),
    ),
    "PICO-CTRL": (
        ("op-ctrl-wiring", "Wiring", "Assembly Bench", 30.0),
        ("op-ctrl-final-test", "Final Test", "Test Bench", 12.0),
    ),
}
FLOOR = {
    "op-lamp-assembly": (26.0, ["Assembly 1", "Assembly 2"]),
    "op-lamp-test": (9.0, ["Test 1", "Test 2"]),
    "op-proc-solder": (8.5, ["Solder 1"]),
    "op-sensor-calibration": (6.0, ["Test 1", "Test 2"]),
    "op-ctrl-wiring": (41.0, ["Assembly 1", "Assembly 2"]),
    "op-ctrl-final-test": (11.5, ["Test 2"]),
}
OPERATORS = ("Ana Costa", "Ben Okafor", "Chen Wei", "Dana Novak", "Emil Larsen")
PICO_PRODUCTS = {
    "PICO-LAMP": "op-desk-lamp",
    "PICO-SENSOR": "op-sensor-kit",
    "PICO-CTRL": "op-control-box",
}


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
    control = pico_control(api_url, token)
    add_pico_processes(control)
    workcenters = {spec[0]: ensure_workcenter(env, *spec) for spec in WORKCENTERS}
    for code, steps in ROUTINGS.items():
        ensure_routing(env, products[code], steps, workcenters)
    warehouse.manu_type_id.use_create_components_lots = True
    grant_admin_rights(env)
    env["ir.config_parameter"].set_param("web.base.url", base_url)
    connect_pico(env.company, api_url, token, public_url)
    ensure_operators(env)
    code, quantity = DRAFT_ORDER
    ensure_draft_order(env, products[code], quantity)
    env.cr.commit()  # pylint: disable=invalid-commit
    history.preload(env, products, control)


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


def pico_control(api_url, token):
    """``control(path, body)``: a POST to the simulator's control API."""
    import requests

    base = api_url.rsplit("/graph", 1)[0]
    session = requests.Session()
    session.headers["x-pico-api-org"] = token

    def control(path, body):
        response = session.post(f"{base}/control/{path}", json=body, timeout=120)
        response.raise_for_status()
        return response.json()

    return control


def add_pico_processes(control):
    """Declare the products' processes in the simulator, and how long they take
    on its floor, where and by whom (its control API)."""
    for code, steps in ROUTINGS.items():
        for pico_id, name, _workcenter, _minutes in steps:
            control("operations", {"id": pico_id, "name": name})
            link = {"parentId": PICO_PRODUCTS[code], "subId": pico_id}
            control("sub_operations", link)
    control(
        "floor",
        {
            "processes": {
                pico_id: {"minutes": minutes, "stations": stations}
                for pico_id, (minutes, stations) in FLOOR.items()
            },
            "operators": list(OPERATORS),
        },
    )


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
    """Lots and serials shown to everyone; admin manages manufacturing and PICO,
    and logs in on the PICO dashboard."""
    implied = env.ref("base.group_user").implied_ids
    wanted = {
        "group_stock_production_lot": env.ref("stock.group_production_lot"),
        "group_mrp_routings": env.ref("mrp.group_mrp_routings"),
    }
    missing = {name: True for name, group in wanted.items() if group not in implied}
    if missing:
        env["res.config.settings"].create(missing).execute()
    admin = env.ref("base.user_admin")
    for xmlid in ("mrp.group_mrp_manager", "pico_mes.group_pico_manager"):
        compat.add_group_users(env.ref(xmlid), admin)
    admin.action_id = env.ref("pico_mes.pico_dashboard_action").id  # opens on it


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


def ensure_operators(env):
    """PICO's operators as users, so that their times carry their names."""
    Users = env["res.users"].with_context(no_reset_password=True)
    for name in OPERATORS:
        login = name.lower().replace(" ", ".")
        if not Users.search_count([("login", "=", login)]):
            Users.create({"name": name, "login": login})


def ensure_draft_order(env, product, quantity):
    """The manufacturing order left for a person to confirm, created once."""
    Production = env["mrp.production"]
    if Production.search_count([("origin", "=", DEMO_ORIGIN)]):
        return
    Production.create(
        {"product_id": product.id, "product_qty": quantity, "origin": DEMO_ORIGIN}
    )
